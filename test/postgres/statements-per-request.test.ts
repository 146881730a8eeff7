import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, keyWithRights, type Harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { countingDatabase, type StatementLog } from '../support/statement-count.ts';

/**
 * A regression guard, counted rather than timed: what one CRUD request costs the database, through the production
 * driver. A key's principal is read once (then held for at most cacheMaxAgeMs), so a list or a create is the route's
 * own transaction: BEGIN, the tenant settings (role and app.tenant_id for row-level security), the work, COMMIT.
 */
describe.skipIf(skipWithoutPostgres('test/postgres/statements-per-request.test.ts'))('statements per CRUD request (real Postgres, Neon driver)', () => {
  let pg: TestPostgres;
  let log: StatementLog;
  let h: Harness;
  let acme: TenantClient;
  beforeAll(async () => {
    pg = await testPostgres();
    const counting = countingDatabase(pg.url);
    log = counting.log;
    h = harness(counting.database);
    acme = await h.tenant('acme');
  });
  afterAll(() => pg?.close());

  async function counted(client: TenantClient, method: string, path: string, body?: unknown) {
    log.reset();
    const res = await client.json(method, path, body);
    return { ...res, statements: [...log.statements], transactions: log.transactions };
  }

  it('a list is one transaction of at most 4 statements, the tenant pinned in it before the query', async () => {
    await counted(acme, 'GET', '/v1/scopes');
    for (const path of ['/v1/scopes', '/v1/roles?limit=3', '/v1/runtime-profiles', '/v1/clusters']) {
      const res = await counted(acme, 'GET', path);
      expect(res.status, path).toBe(200);
      expect(res.transactions, path).toBe(1);
      expect(res.statements.length, `${path}: ${res.statements.join('\n')}`).toBeLessThanOrEqual(4);
      expect(res.statements[0]).toMatch(/^begin/i);
      expect(res.statements[1]).toMatch(/set_config\('role', 'palisade_app', true\), set_config\('app\.tenant_id', \$1, true\)/);
      expect(res.statements.at(-1)).toMatch(/^commit/i);
    }
  });

  it('a create is one transaction of at most 4 statements, also for kinds that feed bundles (their stale mark rides on the insert)', async () => {
    await counted(acme, 'GET', '/v1/roles');
    const role = await counted(acme, 'POST', '/v1/roles', { name: 'readers', rights: ['scopes.view'] });
    expect(role.status).toBe(201);
    expect(role.transactions).toBe(1);
    expect(role.statements.length, role.statements.join('\n')).toBeLessThanOrEqual(4);

    // A write under /v1/roles makes this instance forget the tenant's keys: the next request reads the key again.
    expect((await counted(acme, 'GET', '/v1/scopes')).transactions).toBe(2);
    const profile = await counted(acme, 'POST', '/v1/runtime-profiles', { name: 'p1' });
    expect(profile.status).toBe(201);
    expect(profile.transactions).toBe(1);
    expect(profile.statements.length, profile.statements.join('\n')).toBeLessThanOrEqual(4);
    // The lock, the stale mark and the change marker: one call, in the statement that inserts the row, after RLS is set.
    const marking = profile.statements.filter((s) => /palisade_mark_bundles_stale|pg_advisory_xact_lock|cluster_bundles|change_markers/.test(s));
    expect(marking).toHaveLength(1);
    expect(marking[0]).toMatch(/^with "written" as \(insert into "runtime_profiles"[\s\S]*palisade_mark_bundles_stale\(\$\d+\)/);
    expect(profile.statements.indexOf(marking[0]!)).toBeGreaterThan(profile.statements.findIndex((s) => /set_config\('app\.tenant_id'/.test(s)));
  });

  it('a runtime policy create is one transaction of 4 statements, an update of 5, a GET or list of 4: checks, row, references, revision, stale mark and notEnforcedIn in one', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'counted', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    expect(scope.status).toBe(201);
    // A cluster the policy reaches, with a live admission agent that enforces one of its two sections.
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu' });
    expect(cluster.status).toBe(201);
    await pg.admin.query(
      `insert into agent_enforcement (tenant_id, cluster_id, component, instance, sections, detect_only) values ($1, $2, 'admission', 'a-0', '["capabilitiesBlock"]', '[]')`,
      [acme.id, cluster.body.id],
    );
    await counted(acme, 'GET', '/v1/scopes');
    const body = { name: 'counted', mode: 'enforce', scopeIds: [scope.body.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] }, volumesBlocked: { enabled: true, paths: ['/etc'] } };
    const markingOf = (statements: string[]) => statements.filter((s) => /palisade_mark_bundles_stale|pg_advisory_xact_lock|cluster_bundles|change_markers/.test(s));

    const created = await counted(acme, 'POST', '/v1/runtime-policies', body);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.enforcement).toEqual({ notEnforcedIn: [{ clusterId: cluster.body.id, clusterName: 'prod-eu', sections: ['volumesBlocked'] }] });
    expect(created.transactions).toBe(1);
    // begin, tenant settings, the one statement, commit.
    expect(created.statements, created.statements.join('\n')).toHaveLength(4);
    const [, settings, statement] = created.statements as [string, string, string, string];
    expect(settings).toMatch(/set_config\('app\.tenant_id'/);
    expect(statement).toMatch(/^with "written" as \(insert into "runtime_policies"[\s\S]*"found_scope" as \(select [\s\S]* for share\)[\s\S]*"refs_inserted" as \(insert into "runtime_policy_references"[\s\S]*"revision" as \(insert into "runtime_policy_revisions"/);
    // The mark is taken only once every write and lock in the statement has completed, and every reference was found.
    expect(statement).toMatch(/case when \(select count\(\*\) from "refs_inserted"\) >= 0 and \(select count\(\*\) from "revision"\) >= 0 and \(select count\(\*\) from "found_scope"\) = \$\d+[\s\S]* then palisade_mark_bundles_stale\(\$\d+\) end from "written"$/);
    expect(markingOf(created.statements)).toEqual([statement]);

    const updated = await counted(acme, 'PATCH', `/v1/runtime-policies/${created.body.id}`, { description: 'counted twice' });
    expect(updated.status).toBe(200);
    expect(updated.body.enforcement).toEqual(created.body.enforcement);
    expect(updated.transactions).toBe(1);
    // As a create, plus the policy's row read and locked first (the patch applies to it, If-Match compares with it).
    expect(updated.statements, updated.statements.join('\n')).toHaveLength(5);
    expect(updated.statements[2]).toMatch(/^select .* from "runtime_policies" .* for update$/);
    expect(updated.statements[3]).toMatch(/^with "written" as \(update "runtime_policies"[\s\S]*"refs_deleted" as \(delete from "runtime_policy_references"[\s\S]*"refs_inserted" as \(insert[\s\S]*"revision" as \(insert[\s\S]*palisade_mark_bundles_stale\(\$\d+\) end from "written"$/);

    // The references were replaced, not doubled, and the revisions recorded.
    const refs = await pg.admin.query('select target_kind, target_id from runtime_policy_references where policy_id = $1', [created.body.id]);
    expect(refs.rows).toEqual([{ target_kind: 'scope', target_id: scope.body.id }]);
    const revisions = await acme.json('GET', `/v1/runtime-policies/${created.body.id}/revisions`);
    expect(revisions.body.items.map((r: { revision: number; action: string; changes: string[] }) => [r.revision, r.action, r.changes])).toEqual([
      [1, 'create', []],
      [2, 'update', ['/description']],
    ]);
    // GET and list read the rows and what notEnforcedIn needs in one statement too; the answers equal the write's.
    const got = await counted(acme, 'GET', `/v1/runtime-policies/${created.body.id}`);
    expect(got.body).toEqual(updated.body);
    expect(got.statements, got.statements.join('\n')).toHaveLength(4);
    const listed = await counted(acme, 'GET', '/v1/runtime-policies');
    expect(listed.body.items).toEqual([updated.body]);
    expect(listed.statements, listed.statements.join('\n')).toHaveLength(4);
    expect(listed.statements[2]).toMatch(/^with "page" as \(select [\s\S]* from "runtime_policies" [\s\S]*limit \$\d+\) select [\s\S]*"clusters"[\s\S]*from "page" order by "page"."id" asc$/);
  });

  it('reads a key once, not once per middleware registration: the first request with it adds one transaction', async () => {
    const key = await keyWithRights(acme, ['scopes.view']);
    const fresh = h.as(acme, key);
    const first = await counted(fresh, 'GET', '/v1/scopes');
    expect(first.status).toBe(200);
    expect(first.transactions).toBe(2);
    expect(first.statements.filter((s) => /from "api_keys"/.test(s))).toHaveLength(1);
  });

  it('a key revoked, or a role cut, through this instance stops at once despite the cache', async () => {
    const key = await keyWithRights(acme, ['scopes.view', 'clusters.view']);
    const holder = h.as(acme, key);
    expect((await holder.json('GET', '/v1/clusters')).status).toBe(200);
    const roles = (await acme.json('GET', '/v1/roles?limit=200')).body.items as Array<{ id: string; name: string; rights: string[] }>;
    const keys = (await acme.json('GET', '/v1/api-keys?limit=200')).body.items as Array<{ id: string; roleIds: string[] }>;
    const mine = keys.find((k) => k.roleIds.length === 1 && roles.find((r) => r.id === k.roleIds[0])?.rights.includes('clusters.view') && roles.find((r) => r.id === k.roleIds[0])?.rights.length === 2)!;
    const role = roles.find((r) => r.id === mine.roleIds[0])!;
    expect((await acme.json('PUT', `/v1/roles/${role.id}`, { name: role.name, rights: ['scopes.view'] })).status).toBe(200);
    expect((await holder.json('GET', '/v1/clusters')).status).toBe(403);
    expect((await holder.json('GET', '/v1/scopes')).status).toBe(200);
    expect((await acme.json('POST', `/v1/api-keys/${mine.id}/revoke`)).status).toBe(200);
    expect((await holder.json('GET', '/v1/scopes')).status).toBe(401);
  });

  it('a list of one page reads one page from the (tenant_id, id) index, not every object of the tenant', async () => {
    await pg.admin.query(
      `insert into scopes (tenant_id, id, name, spec, created_by, updated_by)
       select $1, gen_random_uuid(), 'bulk-' || i, '{"name":"x","resources":[]}', 'test', 'test' from generate_series(1, 3000) i`,
      [acme.id],
    );
    await pg.admin.query('analyze scopes');
    const { rows } = await pg.admin.query(`explain (analyze, format json) select * from scopes where tenant_id = $1 order by id limit 51`, [acme.id]);
    const plan = JSON.stringify(rows[0]['QUERY PLAN']);
    expect(plan).toContain('scopes_tenant_id');
    expect(plan).not.toContain('"Node Type":"Sort"');
  });
});
