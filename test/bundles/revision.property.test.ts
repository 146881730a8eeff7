import fc from 'fast-check';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { RuntimePolicyInput } from '../../schema/runtime-policies.ts';
import { compileBundle, type BundleSources } from '../../workers/bundles/bundle.compile.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { loadedMachineRuns, PROPERTY_TEST_TIMEOUT } from '../support/property.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let agent: Awaited<ReturnType<typeof enrolledCluster>>;
let scopes: { prod: string; dev: string };

beforeAll(async () => {
  acme = await h.tenant('acme');
  agent = await enrolledCluster(h, acme, 'prod-eu');
  scopes = {
    prod: (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id,
    dev: (await acme.json('POST', '/v1/scopes', { name: 'dev', resources: [{ type: 'cluster', cluster: 'dev-*' }] })).body.id,
  };
});

type Edit =
  | { op: 'create'; scope: 'prod' | 'dev'; mode: 'audit' | 'enforce' }
  | { op: 'toggle'; pick: number }
  | { op: 'describe'; pick: number; text: string }
  | { op: 'delete'; pick: number }
  | { op: 'ftp'; days: number }
  | { op: 'profile' }
  | { op: 'none' };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('create' as const), scope: fc.constantFrom('prod' as const, 'dev' as const), mode: fc.constantFrom('audit' as const, 'enforce' as const) }),
  fc.record({ op: fc.constant('toggle' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('describe' as const), pick: fc.nat(), text: fc.constantFrom('a', 'b') }),
  fc.record({ op: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ op: fc.constant('ftp' as const), days: fc.integer({ min: 0, max: 2 }) }),
  fc.constant({ op: 'profile' as const }),
  fc.constant({ op: 'none' as const }),
);

let counter = 0;
async function apply(e: Edit, policies: string[]) {
  const pick = (n: number) => policies[n % policies.length];
  if (e.op === 'create') policies.push((await acme.json('POST', '/v1/runtime-policies', { name: `p${counter++}`, mode: e.mode, scopeIds: [scopes[e.scope]], fileThreatProtection: { enabled: true } })).body.id);
  if (e.op === 'toggle' && policies.length) {
    const id = pick(e.pick)!;
    const current = await acme.json('GET', `/v1/runtime-policies/${id}`);
    await acme.json('PATCH', `/v1/runtime-policies/${id}`, { enabled: !current.body.enabled });
  }
  if (e.op === 'describe' && policies.length) await acme.json('PATCH', `/v1/runtime-policies/${pick(e.pick)}`, { description: e.text });
  if (e.op === 'delete' && policies.length) {
    const id = pick(e.pick)!;
    await acme.request('DELETE', `/v1/runtime-policies/${id}`);
    policies.splice(policies.indexOf(id), 1);
  }
  if (e.op === 'ftp') await acme.json('PATCH', '/v1/settings/file-threat-protection', { skipObjectsScanLongerThanSeconds: 60 * e.days });
  if (e.op === 'profile') await acme.json('POST', '/v1/runtime-profiles', { name: `unused-${counter++}` });
}

async function observe(): Promise<{ revision: number; content: string }> {
  const res = await agentRequest(h, agent.credential, '/v1/agent/bundle');
  const { payload } = await jwtVerify(await res.text(), createLocalJWKSet(agent.jwks as never));
  return { revision: payload.rev as number, content: canonicalJson(payload.bundle) };
}

describe('bundle revision', () => {
  it('rises by exactly one when the content changes, and never otherwise', { timeout: PROPERTY_TEST_TIMEOUT }, async () => {
    const runs = loadedMachineRuns(12);
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 8 }), runs.counted(async (edits: Edit[]) => {
        const policies: string[] = [];
        let before = await observe();
        for (const e of edits) {
          await apply(e, policies);
          const after = await observe();
          expect(after.revision).toBe(after.content === before.content ? before.revision : before.revision + 1);
          before = after;
        }
      })),
      runs.parameters,
    );
    runs.expectRuns(4);
  });
});

const S1 = '01a221dd-0000-7000-8000-0000000000a1';
const S2 = '01a221dd-0000-7000-8000-0000000000a2';

describe('compileBundle', () => {
  it('gives byte-identical content for the same sources in any order', () => {
    const scope = (id: string, cluster: string) => ({ id, global: false, spec: { name: id, resources: [{ type: 'cluster' as const, cluster }] } });
    const policy = (id: string, scopeId: string) => ({
      id,
      version: 2,
      spec: RuntimePolicyInput.parse({ name: id, mode: 'enforce', scopeIds: [scopeId], registriesAllowed: { enabled: true, registries: ['ghcr.io/acme'] } }),
    });
    const sources: BundleSources = {
      tenantId: '01a221dd-2f95-79e8-a6e2-652bd4e2f13d',
      cluster: { id: '01a221dd-2f95-79e8-a6e2-652bd4e2f13e', spec: { name: 'prod-eu' } },
      policies: [policy('01a221dd-0000-7000-8000-000000000002', S1), policy('01a221dd-0000-7000-8000-000000000001', S1), policy('01a221dd-0000-7000-8000-000000000003', S2)],
      scopes: [scope(S1, 'prod-*'), scope(S2, 'dev-*')],
      runtimeProfiles: [],
      signatureValidators: [],
      images: [],
      registries: [{ id: 'r2', spec: { name: 'b', url: 'quay.io', type: 'generic' } }, { id: 'r1', spec: { name: 'a', url: 'ghcr.io', type: 'generic' } }],
      fileThreatProtection: {} as never,
    };
    const shuffled = { ...sources, policies: [...sources.policies].reverse(), scopes: [...sources.scopes].reverse(), registries: [...sources.registries].reverse() };
    const a = canonicalJson(compileBundle(sources));
    expect(canonicalJson(compileBundle(shuffled))).toBe(a);
    expect(compileBundle(sources).policies.map((p) => p.id)).toEqual(['01a221dd-0000-7000-8000-000000000001', '01a221dd-0000-7000-8000-000000000002']);
  });
});
