import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

const prod = { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] };

describe.skipIf(skipWithoutPostgres('test/postgres/isolation.test.ts'))('real Postgres through the Neon driver', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let globex: TenantClient;
  beforeAll(async () => {
    pgdb = await testPostgres();
    const h = harness(pgdb.database);
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
  });
  afterAll(() => pgdb?.close());

  it('runs the CRUD cycle for scopes and runtime policies', async () => {
    const scope = await acme.json('POST', '/v1/scopes', prod);
    expect(scope.status).toBe(201);
    const patched = await acme.json('PATCH', `/v1/scopes/${scope.body.id}`, { description: 'production' }, { 'if-match': scope.headers.get('etag')! });
    expect(patched.body.description).toBe('production');

    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'audit', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    expect(policy.body).toMatchObject({ name: 'baseline', mode: 'audit', enabled: true, revision: 1 });
    const got = await acme.json('GET', `/v1/runtime-policies/${policy.body.id}`);
    expect(got.headers.get('etag')).toBe(policy.headers.get('etag'));
    const put = await acme.json('PUT', `/v1/runtime-policies/${policy.body.id}`, { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id] }, { 'if-match': got.headers.get('etag')! });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ mode: 'enforce', revision: 2 });
    const stale = await acme.json('PATCH', `/v1/runtime-policies/${policy.body.id}`, { mode: 'audit' }, { 'if-match': got.headers.get('etag')! });
    expect(stale.status).toBe(412);
    expect((await acme.json('GET', '/v1/runtime-policies?mode=enforce')).body.items.map((p: { name: string }) => p.name)).toEqual(['baseline']);
    expect((await acme.json('GET', `/v1/runtime-policies/${policy.body.id}/revisions`)).body.items).toHaveLength(2);

    expect((await acme.request('DELETE', `/v1/runtime-policies/${policy.body.id}`)).status).toBe(204);
    expect((await acme.json('GET', `/v1/runtime-policies/${policy.body.id}`)).status).toBe(404);
    expect((await acme.request('DELETE', `/v1/scopes/${scope.body.id}`)).status).toBe(204);
  });

  it('answers 404 to another tenant for every method, lists nothing of it and changes nothing', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { ...prod, name: 'private' });
    const policy = await acme.json('POST', '/v1/runtime-policies', { name: 'private', mode: 'audit', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    const objects = [
      { path: `/v1/scopes/${scope.body.id}`, put: prod, patch: { description: 'taken' } },
      { path: `/v1/runtime-policies/${policy.body.id}`, put: { name: 'x', mode: 'enforce', scopeIds: [scope.body.id] }, patch: { mode: 'enforce' } },
    ];
    for (const o of objects) {
      for (const [method, body] of [['GET'], ['PUT', o.put], ['PATCH', o.patch], ['DELETE']] as const) {
        const res = await globex.json(method, o.path, body, { 'if-match': '*' });
        expect(res.status, `${method} ${o.path}`).toBe(404);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
      }
    }
    expect((await globex.json('GET', '/v1/scopes')).body.items.map((s: { name: string }) => s.name)).toEqual(['global']);
    expect((await globex.json('GET', '/v1/runtime-policies')).body.items).toEqual([]);
    // a policy of B may not point at A's scope either
    expect((await globex.json('POST', '/v1/runtime-policies', { name: 'sneaky', mode: 'audit', scopeIds: [scope.body.id] })).status).toBe(422);

    expect((await acme.json('GET', objects[0]!.path)).body).toEqual(scope.body);
    expect((await acme.json('GET', objects[1]!.path)).body).toEqual(policy.body);
  });

  it('holds a tenant-less or foreign transaction to no rows with row-level security', async () => {
    const client = await pgdb.admin.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM scopes WHERE tenant_id = $1', [acme.id])).rows[0].n).toBeGreaterThan(0);
      for (const tenant of [undefined, globex.id]) {
        await client.query('BEGIN');
        await client.query('SET LOCAL ROLE palisade_app');
        if (tenant) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        for (const table of ['scopes', 'runtime_policies', 'roles', 'api_keys']) {
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [acme.id]);
          expect(rows[0].n, `${table} as ${tenant ?? 'no tenant'}`).toBe(0);
        }
        expect((await client.query('SELECT count(*)::int AS n FROM tenants WHERE id = $1', [acme.id])).rows[0].n).toBe(0);
        await client.query('SAVEPOINT s');
        await expect(
          client.query(`INSERT INTO scopes (tenant_id, id, name, spec, created_by, updated_by) VALUES ($1, gen_random_uuid(), 'planted', '{}', 'x', 'x')`, [acme.id]),
        ).rejects.toThrow(/row-level security/);
        await client.query('ROLLBACK TO SAVEPOINT s');
        const { rowCount } = await client.query(`UPDATE scopes SET name = 'hijacked' WHERE tenant_id = $1`, [acme.id]);
        expect(rowCount).toBe(0);
        await client.query('ROLLBACK');
      }
    } finally {
      client.release();
    }
  });

  it('reaches Postgres only through the proxy, which forwards nowhere else', async () => {
    expect(pgdb.proxy.connections).toBeGreaterThan(10);
    for (const address of ['127.0.0.1:22', 'example.com:5432']) {
      const ws = new WebSocket(`ws://${pgdb.proxy.address}/v2?address=${address}`);
      const outcome = await new Promise<string>((resolve) => ws.once('error', (e) => resolve(e.message)).once('open', () => resolve('open')));
      expect(outcome, address).toBe('Unexpected server response: 403');
    }
  });

  it('enables and forces row-level security on every table with a tenant_id column', async () => {
    const { rows } = await pgdb.admin.query<{ table: string; enabled: boolean; forced: boolean }>(`
      SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attname = 'tenant_id' AND NOT a.attisdropped
      ORDER BY 1`);
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.filter((r) => !r.enabled || !r.forced)).toEqual([]);
  });
});
