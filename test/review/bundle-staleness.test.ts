import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markTenantBundlesStale } from '../../workers/bundles/bundle.store.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

describe.skipIf(skipWithoutPostgres('test/review/bundle-staleness.test.ts'))('a bundle compiled while a change is in flight', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let h: ReturnType<typeof harness>;
  beforeAll(async () => {
    pgdb = await testPostgres();
    h = harness(pgdb.database, { cacheMaxAgeMs: 0 });
    acme = await h.tenant('acme');
  });
  afterAll(() => pgdb?.close());

  it('is not marked fresh when the change commits after the compile read its sources', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu' });
    const bundlePath = `/v1/clusters/${cluster.body.id}/bundle`;
    expect((await acme.json('GET', bundlePath)).body.policies.map((p: { name: string }) => p.name)).toEqual(['baseline']);
    // A committed change: the bundle row is stale now, and nobody has compiled since.
    expect((await acme.json('PATCH', `/v1/runtime-policies/${policy.body.id}`, { description: 'v2' })).status).toBe(200);

    // Another writer, exactly as the object routes do it: the change, then the stale mark, then (later) commit.
    const client = await pgdb.admin.connect();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let marked!: () => void;
    const markedP = new Promise<void>((r) => (marked = r));
    const writer = drizzle(client)
      .transaction(async (tx) => {
        await tx.execute(sql`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', ${acme.id}, true)`);
        await tx.execute(sql`update runtime_policies set enabled = false, spec = jsonb_set(spec, '{enabled}', 'false'::jsonb) where id = ${policy.body.id}`);
        await markTenantBundlesStale(tx as unknown as Parameters<typeof markTenantBundlesStale>[0], acme.id);
        marked();
        await released;
      })
      .finally(() => client.release());
    await markedP;

    const compiling = acme.json('GET', bundlePath);
    await new Promise((r) => setTimeout(r, 500));
    release();
    await writer;
    await compiling;

    // Whatever the in-flight compile answered, the stored bundle must not hide the committed change.
    const after = await acme.json('GET', bundlePath);
    expect(after.body.policies).toEqual([]);
  });
});
