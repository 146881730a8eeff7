import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BUNDLE_API_VERSION, BundleContentV1 } from '../../schema/bundle.ts';
import { fakeId, type CompactPolicy } from '../engine/support/bundle.ts';

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

/** A real bundle (through the bundle schema) from a compact spec whose mappings name profiles. */
export function buildRuntimeBundle(spec: RuntimeBundleSpec): { bundle: BundleContentV1; profileNames: Map<string, string> } {
  const ids = new Map(spec.runtimeProfiles.map((p, i) => [p.name, fakeId(3, i + 1)]));
  const policies = spec.policies.map((p, i) => {
    const { scopes = ['global'], revision = 1, ...rest } = structuredClone(p);
    const mappings = (rest.containerRuntimeProfiles as { mappings?: Array<{ profileIds: string[] }> } | undefined)?.mappings;
    for (const m of mappings ?? []) m.profileIds = m.profileIds.map((n) => ids.get(n) ?? n);
    return {
      ...rest,
      id: fakeId(1, i + 1),
      revision,
      scopes: scopes.map((s, j) => ({ id: fakeId(2, i * 100 + j + 1), name: `scope-${j}`, global: s === 'global', resources: s === 'global' ? [] : s })),
    };
  });
  const bundle = BundleContentV1.parse({
    apiVersion: BUNDLE_API_VERSION,
    tenantId: fakeId(9, 1),
    cluster: { id: fakeId(8, 1), name: spec.cluster ?? 'test-cluster' },
    policies,
    runtimeProfiles: spec.runtimeProfiles.map((p) => ({ ...p, id: ids.get(p.name)! })),
    signatureValidators: [],
    images: [],
    registries: [],
    fileThreatProtection: null,
  });
  return { bundle, profileNames: new Map([...ids].map(([n, id]) => [id, n])) };
}
