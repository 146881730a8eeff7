import { CompactSign, createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_JWS_TYPE } from '../../schema/bundle.ts';
import { canonicalJson, sha256Digest } from '../../schema/canonical-json.ts';
import { compileBundle } from '../../workers/bundles/bundle.compile.ts';
import { loadBundleSources } from '../../workers/bundles/bundle.store.ts';
import { SourceRowCache } from '../../workers/bundles/source-cache.ts';
import { inTenant, type Database, type Db } from '../../workers/db/db.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, TEST_ISSUER, testKeys, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { skipWithoutPostgres, testPostgres } from '../support/postgres.ts';

/** The signing as it was done before (jose's CompactSign over the same claim set): the reference for the JWS bytes. */
async function referenceJws(content: string, claims: { aud: string; dig: string; exp: number; iat: number; iss: string; rev: number; tid: string }): Promise<string> {
  const payload = `{"bundle":${content},${canonicalJson(claims).slice(1)}`;
  const key = testKeys.current;
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BUNDLE_JWS_TYPE }).sign(key.privateKey);
}

interface Backend {
  database: Database;
  /** A statement as the superuser (row-level security bypassed), for writers that go around the API. */
  raw(statement: string, params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

function incrementalSuite(label: string, open: () => Promise<Backend>) {
  describe(label, () => {
    let backend: Backend;
    let h: ReturnType<typeof harness>;
    let acme: TenantClient;
    let globex: TenantClient;
    const clusters: Array<{ tenant: () => TenantClient; id: string; name: string }> = [];
    const ids: Record<string, string> = {};

    const withDb = async <T>(fn: (db: Db) => Promise<T>): Promise<T> => {
      const handle = backend.database.open();
      try {
        return await fn(handle.db);
      } finally {
        await handle.close();
      }
    };

    /** The bundle of a cluster through the app's (incremental) service, and a from-scratch build of the same sources. */
    async function compare(tenant: TenantClient, clusterId: string) {
      const bundle = (await withDb((db) => h.app.bundles.current(db, tenant.id, clusterId)))!;
      const scratch = await withDb((db) => inTenant(db, tenant.id, (tx) => loadBundleSources(tx, tenant.id, clusterId)));
      const expected = canonicalJson(compileBundle(scratch!));
      expect(bundle.content).toBe(expected);
      expect(bundle.digest).toBe(await sha256Digest(expected));
      const { payload } = await jwtVerify(bundle.jws, createLocalJWKSet({ keys: [testKeys.current.publicJwk] }), { issuer: TEST_ISSUER, audience: clusterId });
      expect(payload.tid).toBe(tenant.id);
      const claims = { aud: clusterId, dig: bundle.digest, exp: payload.exp!, iat: payload.iat!, iss: TEST_ISSUER, rev: bundle.revision, tid: tenant.id };
      expect(bundle.jws).toBe(await referenceJws(expected, claims));
      expect(bundle.etag).toBe(`"${bundle.revision}.${payload.iat}"`);
      // What is stored is what was served.
      const [stored] = await withDb(async (db) => {
        const r = (await db.execute(`select content, jws, digest from cluster_bundles where cluster_id = '${clusterId}'` as never)) as unknown as { rows: Array<{ content: string; jws: string; digest: string }> };
        return r.rows;
      });
      expect(stored).toEqual({ content: bundle.content, jws: bundle.jws, digest: bundle.digest });
      return bundle;
    }

    const compareAll = async () => {
      for (const c of clusters) await compare(c.tenant(), c.id);
    };

    /** A change made around the API: the writer marks the bundles stale as the routes do (here by hand). */
    async function rawChange(tenantId: string, statement: string, params: unknown[] = []) {
      await backend.raw(statement, params);
      await backend.raw('update cluster_bundles set stale = true where tenant_id = $1', [tenantId]);
      h.app.bundles.changes.tenantChanged(tenantId);
    }

    beforeAll(async () => {
      backend = await open();
      h = harness(backend.database);
      acme = await h.tenant('acme');
      globex = await h.tenant('globex');
      for (const [tenant, name] of [[() => acme, 'prod-eu'], [() => acme, 'dev-us'], [() => globex, 'prod-eu']] as const) {
        const agent = await enrolledCluster(h, tenant(), name);
        clusters.push({ tenant, id: agent.clusterId, name });
      }
      const post = async (tenant: TenantClient, path: string, body: unknown) => {
        const res = await tenant.json('POST', path, body);
        if (res.status !== 201) throw new Error(`${path}: ${JSON.stringify(res.body)}`);
        return res.body.id as string;
      };
      for (const [tenant, t] of [[acme, 'acme'], [globex, 'globex']] as const) {
        ids[`${t}.prod`] = await post(tenant, '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
        ids[`${t}.dev`] = await post(tenant, '/v1/scopes', { name: 'dev', resources: [{ type: 'cluster', cluster: 'dev-*' }] });
        ids[`${t}.reg`] = await post(tenant, '/v1/registries', { name: 'acr', url: `${t}.azurecr.io/team` });
        ids[`${t}.p1`] = await post(tenant, '/v1/runtime-profiles', { name: 'web', executables: { enabled: true, mode: 'allowListedOnly', executables: [{ path: '/usr/sbin/nginx' }] } });
        ids[`${t}.p2`] = await post(tenant, '/v1/runtime-profiles', { name: 'db', executables: { enabled: true, mode: 'allowListedOnly', executables: [{ path: '/usr/bin/postgres' }] } });
        const policy = (name: string, scopes: string[], extra: object = {}) => post(tenant, '/v1/runtime-policies', { name, mode: 'enforce', scopeIds: scopes, ...extra });
        ids[`${t}.A`] = await policy('same-name-a', [ids[`${t}.prod`]!], {
          registriesAllowed: { enabled: true, registries: [{ registryId: ids[`${t}.reg`] }, 'ghcr.io/x'] },
          containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [ids[`${t}.p1`]] }] },
        });
        ids[`${t}.B`] = await policy('same-name-b', [ids[`${t}.dev`]!], { capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
        ids[`${t}.C`] = await policy('same-name-c', [ids[`${t}.prod`]!, ids[`${t}.dev`]!], {
          containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'db' }, profileIds: [ids[`${t}.p2`]] }] },
        });
      }
    });
    afterAll(() => backend?.close());

    it('builds byte-identical bundles to a from-scratch build, through edits, inserts and deletes, for every tenant and cluster', async () => {
      await compareAll();
      const steps: Array<[string, () => Promise<unknown>]> = [
        ['edit a policy', () => acme.json('PATCH', `/v1/runtime-policies/${ids['acme.A']}`, { description: 'edited' })],
        ['insert a policy', async () => (ids['acme.D'] = (await acme.json('POST', '/v1/runtime-policies', { name: 'd', mode: 'audit', scopeIds: [ids['acme.prod']], volumesBlocked: { enabled: true, paths: ['/etc'] } })).body.id)],
        ['delete a policy', () => acme.request('DELETE', `/v1/runtime-policies/${ids['acme.B']}`)],
        ['edit a profile a policy uses', () => acme.json('PATCH', `/v1/runtime-profiles/${ids['acme.p1']}`, { description: 'edited profile' })],
        ['edit a scope (its copy in every policy changes)', () => acme.json('PATCH', `/v1/scopes/${ids['acme.prod']}`, { resources: [{ type: 'cluster', cluster: 'prod-e*' }] })],
        ['edit a referenced registry (a resolved prefix changes)', () => acme.json('PATCH', `/v1/registries/${ids['acme.reg']}`, { url: 'acme.azurecr.io/other' })],
        ['edit around the API without a version bump', () => rawChange(acme.id, `update runtime_policies set spec = jsonb_set(spec, '{description}', '"by hand"'::jsonb) where id = $1`, [ids['acme.C']])],
        ['disable a policy', () => acme.json('PATCH', `/v1/runtime-policies/${ids['acme.C']}`, { enabled: false })],
        ['delete around the API', () => rawChange(acme.id, 'delete from runtime_policies where id = $1', [ids['acme.D']])],
        ['the other tenant edits its policy of the same name', () => globex.json('PATCH', `/v1/runtime-policies/${ids['globex.A']}`, { description: 'globex edit' })],
        ['re-enable a policy', () => acme.json('PATCH', `/v1/runtime-policies/${ids['acme.C']}`, { enabled: true })],
      ];
      for (const [, step] of steps) {
        await step();
        await compareAll();
      }
    });

    it('reads and renders only what changed, and nothing when nothing did', async () => {
      const prod = clusters[0]!;
      await compare(acme, prod.id);
      const svc = h.app.bundles;
      const before = { fetched: svc.sources.fetched, misses: svc.fragments.misses, unchanged: svc.unchangedInputs };
      expect((await acme.json('PATCH', `/v1/runtime-policies/${ids['acme.A']}`, { description: 'once more' })).status).toBe(200);
      const edited = await compare(acme, prod.id);
      expect(svc.sources.fetched - before.fetched).toBe(1);
      expect(svc.fragments.misses - before.misses).toBe(1);
      expect(edited.content).toContain('"once more"');
      // Marked stale with nothing changed: same digest without rendering, same bytes and ETag.
      await rawChange(acme.id, 'select 1');
      const again = await compare(acme, prod.id);
      expect(svc.unchangedInputs - before.unchanged).toBe(1);
      expect(again.etag).toBe(edited.etag);
      expect(again.jws).toBe(edited.jws);
    });

    it('never lets one tenant or cluster see what was cached for another', async () => {
      // Same names, same shapes, one instance's caches warm with both tenants: each bundle holds its own rows only.
      const acmeIds = new Set(Object.entries(ids).filter(([k]) => k.startsWith('acme.')).map(([, v]) => v));
      const globexIds = new Set(Object.entries(ids).filter(([k]) => k.startsWith('globex.')).map(([, v]) => v));
      for (const c of clusters) {
        const bundle = await compare(c.tenant(), c.id);
        const content = JSON.parse(bundle.content) as { tenantId: string; cluster: { id: string }; policies: Array<{ id: string; scopes: Array<{ id: string }> }>; runtimeProfiles: Array<{ id: string }>; registries: Array<{ id: string }> };
        const own = c.tenant() === acme ? acmeIds : globexIds;
        const other = c.tenant() === acme ? globexIds : acmeIds;
        expect(content.tenantId).toBe(c.tenant().id);
        expect(content.cluster.id).toBe(c.id);
        const seen = [...content.policies.flatMap((p) => [p.id, ...p.scopes.map((s) => s.id)]), ...content.runtimeProfiles.map((p) => p.id), ...content.registries.map((r) => r.id)];
        expect(seen.length).toBeGreaterThan(0);
        for (const id of seen) {
          expect(other.has(id)).toBe(false);
          expect(own.has(id) || id === ids['acme.D']).toBe(true);
        }
      }
      // The dev cluster's bundle is not the prod cluster's, though both come from the same cached rows.
      const [prod, dev] = [clusters[0]!, clusters[1]!];
      const prodPolicies = (JSON.parse((await compare(acme, prod.id)).content) as { policies: Array<{ name: string }> }).policies.map((p) => p.name);
      const devPolicies = (JSON.parse((await compare(acme, dev.id)).content) as { policies: Array<{ name: string }> }).policies.map((p) => p.name);
      expect(prodPolicies).toContain('same-name-a');
      expect(devPolicies).not.toContain('same-name-a');
    });
  });
}

incrementalSuite('incremental bundle refresh (PGlite)', async () => {
  const database = await testPglite();
  return { database, raw: async (statement, params) => void (await database.client.query(statement, params as never[])), close: () => database.close() };
});

describe.skipIf(skipWithoutPostgres('test/bundles/incremental-refresh.test.ts'))('on Postgres', () => {
  incrementalSuite('incremental bundle refresh (Postgres, Neon driver)', async () => {
    const pg = await testPostgres();
    return { database: pg.database, raw: async (statement, params) => void (await pg.admin.query(statement, params as never[])), close: () => pg.close() };
  });
});

describe('SourceRowCache', () => {
  const rows = (n: number, tag: string) => new Map(Array.from({ length: n }, (_, i) => [`${tag}-${i}`, { marker: 'm', row: { id: `${tag}-${i}` } }]));

  it('holds at most maxTenants tenants and maxRows rows, dropping the least recently refreshed tenant', () => {
    const cache = new SourceRowCache(2, 10);
    cache.store('t1', 'policies', 'f', rows(3, 't1'));
    cache.store('t2', 'policies', 'f', rows(3, 't2'));
    cache.store('t1', 'scopes', 'f', rows(1, 't1s'));
    cache.store('t3', 'policies', 'f', rows(3, 't3'));
    expect(cache.table('t2', 'policies')).toBeUndefined();
    expect(cache.table('t1', 'policies')?.rows).toHaveLength(3);
    expect(cache.size).toBe(7);
    cache.store('t3', 'images', 'f', rows(5, 't3i'));
    expect(cache.table('t1', 'policies')).toBeUndefined();
    expect(cache.size).toBe(8);
    // A tenant alone over the bound is not kept.
    cache.store('t4', 'images', 'f', rows(11, 't4'));
    expect(cache.size).toBe(0);
    expect(cache.table('t4', 'images')).toBeUndefined();
  });

  it('answers only for the tenant a table was stored under', () => {
    const cache = new SourceRowCache();
    cache.store('t1', 'policies', 'same', rows(2, 'x'));
    expect(cache.table('t2', 'policies')).toBeUndefined();
  });
});
