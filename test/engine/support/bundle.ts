import { BUNDLE_API_VERSION, BundleContentV1 } from '../../../schema/bundle.ts';

/** A deterministic UUID (v4 shape) per namespace and index, so corpus files need not spell ids. */
export const fakeId = (space: number, i: number) => `${space.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

export interface CompactPolicy extends Record<string, unknown> {
  name: string;
  mode: 'audit' | 'enforce';
  /** `global` (the default), or scopes given as lists of scope resources. */
  scopes?: Array<'global' | Array<Record<string, string>>>;
  revision?: number;
}

export interface CompactBundle {
  cluster?: string;
  policies: CompactPolicy[];
  /** Runtime profiles by name, or whole (name and spec); mappings name them in `profileIds`, mapped here to ids. */
  runtimeProfiles?: Array<string | (Record<string, unknown> & { name: string })>;
  images?: Array<Record<string, unknown>>;
}

/** Expands a compact spec into a real bundle through the bundle schema (defaults, validation and all). */
export function buildBundle(spec: CompactBundle): { bundle: BundleContentV1; profileNames: Map<string, string> } {
  const profiles = (spec.runtimeProfiles ?? []).map((p) => (typeof p === 'string' ? { name: p } : p));
  const profileIds = new Map(profiles.map((p, i) => [p.name, fakeId(3, i + 1)]));
  const profileNames = new Map([...profileIds].map(([name, id]) => [id, name]));
  const policies = spec.policies.map((p, i) => {
    const { scopes = ['global'], revision = 1, ...rest } = structuredClone(p);
    const mappings = (rest.containerRuntimeProfiles as { mappings?: Array<{ profileIds: string[] }> } | undefined)?.mappings;
    for (const m of mappings ?? []) m.profileIds = m.profileIds.map((n) => profileIds.get(n) ?? n);
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
    runtimeProfiles: profiles.map((p) => ({ ...p, id: profileIds.get(p.name)! })),
    signatureValidators: [],
    images: spec.images ?? [],
    registries: [],
    fileThreatProtection: null,
  });
  return { bundle, profileNames };
}
