import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BundleContentV1 } from '../../schema/bundle.ts';
import { buildBundle, type CompactPolicy } from '../engine/support/bundle.ts';

export const SHARED_FIXTURES = resolve(import.meta.dirname, '../../../shared/fixtures');

/** Line `n` (1-based) of a shared fixture file: `tetragon/events.jsonl#9`. */
export function fixtureLine(ref: string): string {
  const [file, n] = ref.split('#') as [string, string];
  const lines = readFileSync(resolve(SHARED_FIXTURES, file), 'utf8').split('\n').filter((l) => l.trim() !== '');
  const line = lines[Number(n) - 1];
  if (line === undefined) throw new Error(`${ref}: no such line`);
  return line;
}

export interface RuntimeBundleSpec {
  cluster?: string;
  /** Full runtime profiles (name + spec); mappings name them in `profileIds`. */
  runtimeProfiles: Array<Record<string, unknown> & { name: string }>;
  policies: CompactPolicy[];
}

/** A real bundle (through the bundle schema) from a compact spec whose mappings name whole profiles. */
export const buildRuntimeBundle = (spec: RuntimeBundleSpec): { bundle: BundleContentV1; profileNames: Map<string, string> } => buildBundle(spec);
