import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * The stale mark a write folds into its own statement (palisade_mark_bundles_stale, migration 0023), against a compile
 * that holds the tenant's compile lock first. The other order (a change marked, a compile waiting for it) is
 * test/review/bundle-staleness.test.ts.
 */
describe.skipIf(skipWithoutPostgres('test/postgres/stale-mark.test.ts'))('the bundles stale mark folded into a write (real Postgres)', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let globex: TenantClient;
  beforeAll(async () => {
    pgdb = await testPostgres();
    const h = harness(pgdb.database, { cacheMaxAgeMs: 0 });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
  });
  afterAll(() => pgdb?.close());

  const bundleRow = async (clusterId: string) =>
    (await pgdb.admin.query('select stale, revision from cluster_bundles where cluster_id = $1', [clusterId])).rows[0] as { stale: boolean; revision: number };
  const marker = async (tenantId: string) => Number((await pgdb.admin.query('select marker from change_markers where tenant_id = $1', [tenantId])).rows[0]?.marker ?? 0);
  /** Begins a compile as BundleService does: the cluster's row lock, then the tenant's compile lock exclusively. */
  const holdCompileLock = async (compile: import('pg').PoolClient, clusterId: string) => {
    await compile.query('begin');
    await compile.query(`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', $1, true)`, [acme.id]);
    await compile.query('select 1 from cluster_bundles where tenant_id = $1 and cluster_id = $2 for update', [acme.id, clusterId]);
    await compile.query(`select pg_advisory_xact_lock(hashtext('palisade.bundles'), hashtext($1))`, [acme.id]);
  };

  it('a write that waits for a compile holding the lock marks what the compile stored as fresh: no change is lost', async () => {
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu' });
    expect(cluster.status).toBe(201);
    const bundlePath = `/v1/clusters/${cluster.body.id}/bundle`;
    expect((await acme.json('GET', bundlePath)).status).toBe(200);
    // A committed change nobody has compiled yet: the row is stale.
    expect((await acme.json('POST', '/v1/runtime-profiles', { name: 'first' })).status).toBe(201);
    expect((await bundleRow(cluster.body.id)).stale).toBe(true);

    // A compile, as BundleService does it: row lock, then the tenant's compile lock exclusively, then its sources.
    const compile = await pgdb.admin.connect();
    try {
      await holdCompileLock(compile, cluster.body.id);
      const sources = (await compile.query('select name from runtime_profiles where tenant_id = $1', [acme.id])).rows.map((r) => r.name);
      expect(sources).toEqual(['first']);

      // A change starts while the compile holds the lock: its statement waits inside the mark.
      const markerBefore = await marker(acme.id);
      const writing = acme.json('POST', '/v1/runtime-profiles', { name: 'second' });
      for (let i = 0; ; i++) {
        const { rows } = await pgdb.admin.query(`select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted and mode = 'ShareLock' and database = (select oid from pg_database where datname = current_database())`);
        if (rows[0].n > 0) break;
        if (i > 200) throw new Error('the write never waited for the compile lock');
        await new Promise((r) => setTimeout(r, 25));
      }

      // The compile stores what it read as fresh and commits; the change, still open, has not been seen by it.
      await compile.query('update cluster_bundles set stale = false, revision = revision + 1 where tenant_id = $1 and cluster_id = $2', [acme.id, cluster.body.id]);
      await compile.query('commit');
      expect((await writing).status).toBe(201);

      // The mark ran after the lock was granted, in a snapshot that saw the compile's `stale = false`: the bundle is
      // stale again, and the marker moved, so every instance and agent learns of the change.
      expect((await bundleRow(cluster.body.id)).stale).toBe(true);
      expect(await marker(acme.id)).toBe(markerBefore + 1);
    } finally {
      compile.release();
    }
  });

  it('a runtime policy create marks in the one statement that writes it, after a compile holding the lock', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'marked', resources: [{ type: 'cluster', cluster: 'policy-*' }] });
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'policy-eu' });
    expect([scope.status, cluster.status]).toEqual([201, 201]);
    expect((await acme.json('GET', `/v1/clusters/${cluster.body.id}/bundle`)).status).toBe(200);
    expect((await bundleRow(cluster.body.id)).stale).toBe(false);

    const compile = await pgdb.admin.connect();
    try {
      await holdCompileLock(compile, cluster.body.id);

      const markerBefore = await marker(acme.id);
      const writing = acme.json('POST', '/v1/runtime-policies', { name: 'marked', mode: 'enforce', scopeIds: [scope.body.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
      for (let i = 0; ; i++) {
        const { rows } = await pgdb.admin.query(
          `select a.query from pg_locks l join pg_stat_activity a on a.pid = l.pid where l.locktype = 'advisory' and not l.granted and l.mode = 'ShareLock' and l.database = (select oid from pg_database where datname = current_database())`,
        );
        if (rows.length > 0) {
          // The statement waiting for the lock is the one that writes the policy, its references and its revision
          // (pg_stat_activity shows only its first kilobyte; statements-per-request.test.ts reads all of it).
          expect(rows[0].query).toMatch(/^with "written" as \(insert into "runtime_policies"/);
          break;
        }
        if (i > 200) throw new Error('the policy write never waited for the compile lock');
        await new Promise((r) => setTimeout(r, 25));
      }

      await compile.query('update cluster_bundles set stale = false, revision = revision + 1 where tenant_id = $1 and cluster_id = $2', [acme.id, cluster.body.id]);
      await compile.query('commit');
      const created = await writing;
      expect(created.status).toBe(201);

      expect((await bundleRow(cluster.body.id)).stale).toBe(true);
      expect(await marker(acme.id)).toBe(markerBefore + 1);
      const refs = await pgdb.admin.query('select target_id from runtime_policy_references where policy_id = $1', [created.body.id]);
      expect(refs.rows).toEqual([{ target_id: scope.body.id }]);
      const revisions = await pgdb.admin.query('select revision, action from runtime_policy_revisions where policy_id = $1', [created.body.id]);
      expect(revisions.rows).toEqual([{ revision: 1, action: 'create' }]);
    } finally {
      compile.release();
    }
  });

  it('a runtime policy create refused for a missing reference does not wait for a compile holding the lock', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'refused', resources: [{ type: 'cluster', cluster: 'refused-*' }] });
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'refused-eu' });
    expect((await acme.json('GET', `/v1/clusters/${cluster.body.id}/bundle`)).status).toBe(200);
    const missing = '0190f0a0-0000-7000-8000-000000000099';
    const compile = await pgdb.admin.connect();
    try {
      await holdCompileLock(compile, cluster.body.id);
      const markerBefore = await marker(acme.id);
      // Answered while the compile still holds the lock: the statement skipped the mark (a wait would time out here).
      const refused = await acme.json('POST', '/v1/runtime-policies', {
        name: 'refused', mode: 'enforce', scopeIds: [scope.body.id],
        containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [missing] }] },
      });
      expect(refused.status).toBe(422);
      expect(refused.body.errors).toEqual([{ pointer: '/containerRuntimeProfiles/mappings/0/profileIds/0', detail: `no runtime profile ${missing}` }]);
      await compile.query('commit');
      expect(await marker(acme.id)).toBe(markerBefore);
    } finally {
      compile.release();
    }
  });

  it('marks only the caller tenant: another tenant named in the call is refused by row-level security', async () => {
    const cluster = await globex.json('POST', '/v1/clusters', { name: 'prod-us' });
    expect((await globex.json('GET', `/v1/clusters/${cluster.body.id}/bundle`)).status).toBe(200);
    expect((await bundleRow(cluster.body.id)).stale).toBe(false);
    const markerBefore = await marker(globex.id);

    const client = await pgdb.admin.connect();
    try {
      await client.query('begin');
      await client.query(`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', $1, true)`, [acme.id]);
      await expect(client.query('select palisade_mark_bundles_stale($1)', [globex.id])).rejects.toThrow(/row-level security/);
      await client.query('rollback');
      // The same call as the caller's own tenant writes only that tenant's rows.
      await client.query('begin');
      await client.query(`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', $1, true)`, [acme.id]);
      expect((await client.query('select palisade_mark_bundles_stale($1) as ok', [acme.id])).rows[0].ok).toBe(true);
      await client.query('commit');
    } finally {
      client.release();
    }
    expect((await bundleRow(cluster.body.id)).stale).toBe(false);
    expect(await marker(globex.id)).toBe(markerBefore);
  });
});
