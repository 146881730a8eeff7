import type { BundlePolicy } from '../../../../schema/bundle.ts';
import type { Check, CheckContext, Violation } from '../types.ts';

/**
 * A faster implementation of a check with its policy's settings prepared once, where one exists; else the check's
 * own `run`. Each must decide exactly as the check (the compiled-evaluator property test compares them).
 */
export function fastCheck(check: Check, policy: BundlePolicy): ((ctx: CheckContext) => Violation[]) | undefined {
  return undefined;
}
