import type { BundleContentV1 } from '../../../schema/bundle.ts';
import { signatureNeeds, type AdmissionInput, type SignatureFacts } from '../engine/index.ts';
import type { SignatureVerifier } from './verifier.ts';

/**
 * The I/O stage the webhook runs before `evaluate`: the facts `imageContentProtection` decides on, for the images of
 * one request, within `deadlineMs`. `undefined` when no rule asks for a signature.
 */
export type SignatureStage = (bundle: BundleContentV1, input: AdmissionInput, deadlineMs: number) => Promise<SignatureFacts | undefined>;

/**
 * The stage over a {@link SignatureVerifier}: the (image, validator) pairs the bundle's rules select, verified or
 * answered from the cache.
 *
 * @example
 * ```ts
 * const stage = signatureStage(new SignatureVerifier({ client: new OciClient() }));
 * const signatures = await stage(bundle.content, input, 1500);
 * evaluate(bundle.content, { ...input, signatures }, options);
 * ```
 */
export function signatureStage(verifier: SignatureVerifier): SignatureStage {
  return async (bundle, input, deadlineMs) => {
    const needs = signatureNeeds(bundle, input);
    return needs.length === 0 ? undefined : verifier.facts(needs, Math.max(0, deadlineMs));
  };
}
