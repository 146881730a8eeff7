import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAgentState } from '../../workers/agents/change-markers.ts';
import { sha256Hex } from '../../workers/ids.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

describe.skipIf(skipWithoutPostgres('test/postgres/change-markers.test.ts'))('change markers and the one-statement agent state on Postgres', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let agent: Awaited<ReturnType<typeof enrolledCluster>>;
  beforeAll(async () => {
    pgdb = await testPostgres();
    const h = harness(pgdb.database);
    acme = await h.tenant('acme');
    agent = await enrolledCluster(h, acme, 'prod-eu');
  });
  afterAll(() => pgdb?.close());

  const withDb = async <T>(fn: (db: ReturnType<TestPostgres['database']['open']>['db']) => Promise<T>) => {
    const handle = pgdb.database.open();
    try {
      return await fn(handle.db);
    } finally {
      await handle.close();
    }
  };

  it('reads the credential through row-level security and leaves no setting behind', async () => {
    const hash = await sha256Hex(agent.credential);
    const { state } = await withDb((db) => readAgentState(db, { keyHash: hash, now: new Date() }));
    expect(state).toMatchObject({ tenantId: acme.id, clusterId: agent.clusterId, marker: expect.any(Number) });
    const unknown = await sha256Hex('pcc_unknown');
    expect((await withDb((db) => readAgentState(db, { keyHash: unknown, now: new Date() }))).state).toBeUndefined();
    const settings = await withDb((db) =>
      db.transaction(async (tx) => {
        await tx.execute(sql`select palisade_agent_state(${hash}, now())`);
        const r = (await tx.execute(sql`select current_setting('app.tenant_id', true) as t, current_setting('app.key_hash', true) as k, current_user as u`)) as unknown as { rows: Array<{ t: string | null; k: string | null; u: string }> };
        return r.rows[0]!;
      }),
    );
    expect(settings.t ?? '').toBe('');
    expect(settings.k ?? '').toBe('');
    expect(settings.u).not.toBe('palisade_app');
  });

  it('a marker written by a transaction still open at a read is in the next read from its watermark', async () => {
    const first = (await withDb((db) => readAgentState(db, { now: new Date(), since: '0' }))).delta!;
    const before = Object.fromEntries(first.markers)[acme.id] ?? 0;
    const writer = await pgdb.admin.connect();
    try {
      await writer.query('begin');
      await writer.query(`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', $1, true)`, [acme.id]);
      await writer.query(`insert into change_markers (tenant_id, marker, changed_xid) values ($1, 1, pg_current_xact_id())
        on conflict (tenant_id) do update set marker = change_markers.marker + 1, changed_xid = pg_current_xact_id()`, [acme.id]);
      // A read while the writer is open: it cannot see the change, and its watermark must not pass the writer. It may
      // hand back the marker already read (the watermark is the oldest transaction running anywhere on the server,
      // other test files' included: a delta is at least once), never the writer's.
      const during = (await withDb((db) => readAgentState(db, { now: new Date(), since: first.watermark }))).delta!;
      expect(Object.fromEntries(during.markers)[acme.id] ?? before).toBe(before);
      await writer.query('commit');
      const after = (await withDb((db) => readAgentState(db, { now: new Date(), since: during.watermark }))).delta!;
      expect(Object.fromEntries(after.markers)[acme.id]).toBe(before + 1);
    } finally {
      writer.release();
    }
  });

  it('tenant changes, revocations and rotations raise the marker in their own transaction', async () => {
    const hash = await sha256Hex(agent.credential);
    const marker = async () => (await withDb((db) => readAgentState(db, { keyHash: hash, now: new Date() }))).state!.marker;
    const m0 = await marker();
    await acme.json('POST', '/v1/runtime-profiles', { name: 'p' });
    const m1 = await marker();
    expect(m1).toBeGreaterThan(m0);
    const [credential] = (await acme.json('GET', `/v1/clusters/${agent.clusterId}/credentials`)).body.items;
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${credential.id}/revoke`)).status).toBe(204);
    expect((await withDb((db) => readAgentState(db, { keyHash: hash, now: new Date() }))).state).toBeUndefined();
    const [{ marker: m2 }] = (await pgdb.admin.query('select marker::int as marker from change_markers where tenant_id = $1', [acme.id])).rows;
    expect(m2).toBeGreaterThan(m1);
  });
});
