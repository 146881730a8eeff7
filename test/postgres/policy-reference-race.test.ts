import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

/**
 * A runtime policy is written in one statement that checks its references after writing (policy-write.ts). What
 * keeps a reference from vanishing under it is the FOR SHARE lock in that statement: a scope being deleted makes the
 * create wait, and once the delete commits the create finds the scope gone, answers 422 and leaves nothing behind.
 */
describe.skipIf(skipWithoutPostgres('test/postgres/policy-reference-race.test.ts'))('a policy write racing the delete of what it references (real Postgres)', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  beforeAll(async () => {
    pgdb = await testPostgres();
    acme = await harness(pgdb.database, { cacheMaxAgeMs: 0 }).tenant('acme');
  });
  afterAll(() => pgdb?.close());

  it('waits for a delete of its scope, then refuses with 422 and rolls the row, references and revision back', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'doomed', resources: [{ type: 'cluster', cluster: '*' }] });
    expect(scope.status).toBe(201);
    const deleting = await pgdb.admin.connect();
    try {
      // The scope's delete, as the API runs it: the row locked for update first.
      await deleting.query('begin');
      await deleting.query('select 1 from scopes where tenant_id = $1 and id = $2 for update', [acme.id, scope.body.id]);

      const creating = acme.json('POST', '/v1/runtime-policies', { name: 'orphan', mode: 'enforce', scopeIds: [scope.body.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
      let waiter: number | undefined;
      for (let i = 0; waiter === undefined; i++) {
        const { rows } = await pgdb.admin.query(`select pid from pg_stat_activity where wait_event_type = 'Lock' and query like '%"found_scope"%'`);
        waiter = rows[0]?.pid;
        if (i > 200) throw new Error('the create never waited for the scope');
        if (waiter === undefined) await new Promise((r) => setTimeout(r, 25));
      }
      // Waiting for a row lock, it holds no compile lock: the stale mark comes after every lock in the statement.
      const advisory = await pgdb.admin.query(`select count(*)::int as n from pg_locks where pid = $1 and locktype = 'advisory'`, [waiter]);
      expect(advisory.rows[0].n).toBe(0);

      await deleting.query('delete from scopes where tenant_id = $1 and id = $2', [acme.id, scope.body.id]);
      await deleting.query('commit');
      const created = await creating;
      expect(created.status).toBe(422);
      expect(created.body.errors).toEqual([{ pointer: '/scopeIds/0', detail: `no scope ${scope.body.id}` }]);
    } finally {
      deleting.release();
    }
    for (const table of ['runtime_policies', 'runtime_policy_references', 'runtime_policy_revisions']) {
      const { rows } = await pgdb.admin.query(`select count(*)::int as n from ${table} where tenant_id = $1`, [acme.id]);
      expect(rows[0].n, table).toBe(0);
    }
    // The name is free: nothing of the refused create was kept.
    const again = await acme.json('POST', '/v1/scopes', { name: 'kept', resources: [{ type: 'cluster', cluster: '*' }] });
    expect((await acme.json('POST', '/v1/runtime-policies', { name: 'orphan', mode: 'audit', scopeIds: [again.body.id] })).status).toBe(201);
  });

  it('a scope in use cannot be deleted once the create has committed (409 naming the policy)', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'used', resources: [{ type: 'cluster', cluster: '*' }] });
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'user', mode: 'audit', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    const refused = await acme.json('DELETE', `/v1/scopes/${scope.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('user');
  });
});
