import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../workers/ids.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type Harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * On Neon the migrations and the app run as the project's owner role, which is no superuser: every migration must
 * apply as such a role (Postgres refuses a non-superuser a custom setting in a function's SET clause, which
 * migration 0021 once used), and the agent's poll path must work through the production driver on top of it.
 */
describe.skipIf(skipWithoutPostgres('test/postgres/neon-owner.test.ts'))('a database owned by a non-superuser role, as on Neon', () => {
  let pg: TestPostgres;
  let h: Harness;
  let acme: TenantClient;
  beforeAll(async () => {
    pg = await testPostgres({ owner: 'palisade_neon_owner' });
    h = harness(pg.database);
    acme = await h.tenant('acme');
    const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
  });
  afterAll(() => pg?.close());

  it('takes every migration, with the poll functions owned by the roles whose row-level security they keep', async () => {
    const { rows: [me] } = await pg.admin.query('SELECT current_user AS name, rolsuper FROM pg_roles WHERE rolname = current_user');
    expect(me).toEqual({ name: 'palisade_neon_owner', rolsuper: false });
    const { rows } = await pg.admin.query(`SELECT proname, pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE proname IN ('palisade_agent_state', 'palisade_markers_since', 'palisade_touch_credentials') ORDER BY proname`);
    expect(rows).toEqual([
      { proname: 'palisade_agent_state', owner: 'palisade_app' },
      { proname: 'palisade_markers_since', owner: 'palisade_system' },
      { proname: 'palisade_touch_credentials', owner: 'palisade_app' },
    ]);
  });

  it('serves an agent its bundle, the unchanged poll and a revocation through the production driver', async () => {
    const agent = await enrolledCluster(h, acme, 'prod-eu');
    const poll = (etag?: string) => h.app.request('/v1/agent/bundle', { headers: { authorization: `Bearer ${agent.credential}`, ...(etag ? { 'if-none-match': etag } : {}) } });
    const first = await poll();
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    expect((await poll(etag)).status).toBe(304);
    const [credential] = (await acme.json('GET', `/v1/clusters/${agent.clusterId}/credentials`)).body.items;
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${credential.id}/revoke`)).status).toBe(204);
    expect((await poll(etag)).status).toBe(401);
  });

  it('gives the caller its settings back after the poll functions, for an unknown and a valid credential', async () => {
    const agent = await enrolledCluster(h, acme, 'prod-us');
    const client = await pg.admin.connect();
    try {
      await client.query('BEGIN');
      const caller = { tenant: '00000000-0000-4000-8000-00000000cafe', hash: 'f'.repeat(64) };
      await client.query(`SELECT set_config('app.tenant_id', $1, true), set_config('app.key_hash', $2, true)`, [caller.tenant, caller.hash]);
      // The valid credential's function switches to its tenant on the way, and must switch back.
      for (const hash of ['0'.repeat(64), await sha256Hex(agent.credential)]) {
        const { rows: [after] } = await client.query(
          `SELECT palisade_agent_state($1, now()) AS state, palisade_touch_credentials(ARRAY[$1], now()) AS touched,
                  current_setting('app.tenant_id') AS tenant, current_setting('app.key_hash') AS hash`,
          [hash],
        );
        expect({ tenant: after.tenant, hash: after.hash }).toEqual(caller);
        expect(after.state?.clusterId ?? null).toBe(hash === '0'.repeat(64) ? null : agent.clusterId);
      }
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
  });
});
