import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { RuntimePolicyInput } from '../../schema/runtime-policies.ts';
import { compileBundle, FragmentMemo, renderBundle, type BundleSources } from '../../workers/bundles/bundle.compile.ts';

/**
 * renderBundle against the reference, canonicalJson(compileBundle(...)), over generated histories. Rows are immutable
 * objects and a change replaces the object, as the source cache hands them out; one memo serves two tenants and two
 * clusters each, all rendered after every step, so a fragment made for one can only ever be offered to the others.
 */

type Sources = Omit<BundleSources, 'cluster' | 'tenantId'>;
type Op =
  | { op: 'addPolicy'; scope: number; images: boolean; validator: number | null; profile: number | null; registry: number | null; ftp: boolean }
  | { op: 'editPolicy'; pick: number; text: string }
  | { op: 'deletePolicy'; pick: number }
  | { op: 'editScope'; pick: number; mask: string; name: string }
  | { op: 'editRegistry'; pick: number; url: string }
  | { op: 'editProfile'; pick: number; ftp: boolean; text: string }
  | { op: 'addImage'; n: number }
  | { op: 'editImage'; pick: number; compliance: 'compliant' | 'nonCompliant'; tag: string }
  | { op: 'deleteImage'; pick: number }
  | { op: 'editValidator'; pick: number; name: string };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('addPolicy' as const), scope: fc.nat(3), images: fc.boolean(), validator: fc.option(fc.nat(1)), profile: fc.option(fc.nat(2)), registry: fc.option(fc.nat(1)), ftp: fc.boolean() }),
  fc.record({ op: fc.constant('editPolicy' as const), pick: fc.nat(), text: fc.constantFrom('a', 'b', 'ü') }),
  fc.record({ op: fc.constant('deletePolicy' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('editScope' as const), pick: fc.nat(3), mask: fc.constantFrom('prod-*', 'dev-*', '*'), name: fc.constantFrom('s', 't') }),
  fc.record({ op: fc.constant('editRegistry' as const), pick: fc.nat(1), url: fc.constantFrom('ghcr.io/a', 'quay.io/b', 'ghcr.io/a/b') }),
  fc.record({ op: fc.constant('editProfile' as const), pick: fc.nat(2), ftp: fc.boolean(), text: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('addImage' as const), n: fc.nat(50) }),
  fc.record({ op: fc.constant('editImage' as const), pick: fc.nat(), compliance: fc.constantFrom('compliant' as const, 'nonCompliant' as const), tag: fc.constantFrom('1', '2', 'latest') }),
  fc.record({ op: fc.constant('deleteImage' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('editValidator' as const), pick: fc.nat(1), name: fc.constantFrom('v', 'w') }),
);

const hex = (n: number) => n.toString(16).padStart(12, '0');
const uuid = (tenant: number, kind: number, n: number) => `01a221dd-000${tenant}-7000-800${kind}-${hex(n)}`;

function initial(tenant: number): Sources {
  return {
    policies: [],
    scopes: [
      { id: uuid(tenant, 1, 1), global: false, spec: { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] } },
      { id: uuid(tenant, 1, 2), global: false, spec: { name: 'dev', resources: [{ type: 'cluster', cluster: 'dev-*' }] } },
      { id: uuid(tenant, 1, 3), global: true, spec: { name: 'global', resources: [] } },
      { id: uuid(tenant, 1, 4), global: false, spec: { name: 'regs', resources: [{ type: 'registry', registry: 'ghcr.io' }] } },
    ] as never,
    runtimeProfiles: [0, 1, 2].map((i) => ({ id: uuid(tenant, 2, i), spec: { name: `p${i}`, fileThreatProtection: { enabled: false } } })) as never,
    signatureValidators: [0, 1].map((i) => ({ id: uuid(tenant, 3, i), spec: { name: `v${i}`, type: 'cosign' } })) as never,
    images: [],
    registries: [0, 1].map((i) => ({ id: uuid(tenant, 4, i), spec: { name: `r${i}`, url: `registry-${tenant}-${i}.example.com` } })) as never,
    fileThreatProtection: { enabled: true } as never,
    fileSignatures: { version: 1, digest: 'sha256:00', signatureCount: 1 },
  };
}

let counter = 0;
/** The next state: only what the operation changes gets a new object. */
function apply(s: Sources, o: Op, tenant: number): Sources {
  const replace = <T>(list: T[], i: number, f: (x: T) => T) => list.map((x, j) => (j === i ? f(x) : x));
  switch (o.op) {
    case 'addPolicy': {
      const n = counter++;
      const spec = RuntimePolicyInput.parse({
        name: `policy-${n}`,
        mode: 'enforce',
        scopeIds: [s.scopes[o.scope]!.id],
        ...(o.images ? { blockNonCompliantImages: { enabled: true } } : {}),
        ...(o.validator !== null ? { imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/*', verify: true, validatorId: s.signatureValidators[o.validator]!.id }] } } : {}),
        ...(o.profile !== null ? { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'x' }, profileIds: [s.runtimeProfiles[o.profile]!.id] }] } } : {}),
        registriesAllowed: { enabled: true, registries: o.registry !== null ? [{ registryId: s.registries[o.registry]!.id }, 'docker.io'] : ['docker.io'] },
        ...(o.ftp ? { fileThreatProtection: { enabled: true } } : {}),
      });
      return { ...s, policies: [...s.policies, { id: uuid(tenant, 5, n), version: 1, spec }] };
    }
    case 'editPolicy':
      if (!s.policies.length) return s;
      return { ...s, policies: replace(s.policies, o.pick % s.policies.length, (p) => ({ ...p, version: p.version + 1, spec: { ...p.spec, description: o.text } })) };
    case 'deletePolicy':
      if (!s.policies.length) return s;
      return { ...s, policies: s.policies.filter((_, i) => i !== o.pick % s.policies.length) };
    case 'editScope':
      return { ...s, scopes: replace(s.scopes, o.pick, (x) => (x.global ? { ...x, spec: { ...x.spec, name: o.name } } : { ...x, spec: { ...x.spec, name: o.name, resources: x.spec.resources.map((r) => (r.type === 'registry' ? r : { ...r, cluster: o.mask })) } })) };
    case 'editRegistry':
      return { ...s, registries: replace(s.registries, o.pick, (r) => ({ ...r, spec: { ...r.spec, url: o.url } })) };
    case 'editProfile':
      return { ...s, runtimeProfiles: replace(s.runtimeProfiles, o.pick, (p) => ({ ...p, spec: { ...p.spec, description: o.text, fileThreatProtection: { enabled: o.ftp } } as never })) };
    case 'addImage':
      return { ...s, images: [...s.images, { id: uuid(tenant, 6, counter++), spec: { reference: `ghcr.io/acme/app-${o.n}`, digest: `sha256:${hex(o.n).padStart(64, '0')}`, tags: ['b', 'a'], compliance: 'notScanned' }, complianceReasons: [], compliantUntil: null } as never] };
    case 'editImage':
      if (!s.images.length) return s;
      return { ...s, images: replace(s.images, o.pick % s.images.length, (i) => ({ ...i, spec: { ...i.spec, compliance: o.compliance, tags: [o.tag, ...i.spec.tags] }, compliantUntil: o.compliance === 'compliant' ? '2030-01-01T00:00:00Z' : null })) };
    case 'deleteImage':
      if (!s.images.length) return s;
      return { ...s, images: s.images.filter((_, i) => i !== o.pick % s.images.length) };
    case 'editValidator':
      return { ...s, signatureValidators: replace(s.signatureValidators, o.pick, (v) => ({ ...v, spec: { ...v.spec, name: o.name } })) };
  }
}

describe('renderBundle', () => {
  it('writes the bytes of canonicalJson(compileBundle(...)) through any history, for every tenant and cluster, with one memo', () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1), op), { minLength: 1, maxLength: 30 }), (steps) => {
        const memo = new FragmentMemo();
        const tenants = [initial(1), initial(2)];
        const clusters = [
          { id: uuid(0, 9, 1), spec: { name: 'prod-eu' } },
          { id: uuid(0, 9, 2), spec: { name: 'dev-us', labels: { tier: 'dev' } } },
        ];
        const check = () => {
          tenants.forEach((s, t) => {
            for (const cluster of clusters) {
              const src: BundleSources = { ...s, tenantId: uuid(t + 1, 0, 0), cluster: cluster as never };
              expect(renderBundle(src, memo)).toBe(canonicalJson(compileBundle(src)));
            }
          });
        };
        check();
        for (const [tenant, o] of steps) {
          tenants[tenant] = apply(tenants[tenant]!, o, tenant + 1);
          check();
        }
        hits += memo.hits;
      }),
      { numRuns: 150 },
    );
    // Elements did come from the memo (the comparison is not only of from-scratch renders).
    expect(hits).toBeGreaterThan(0);
  });
});
