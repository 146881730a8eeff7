import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTenant } from '../../workers/db/db.ts';
import { dispatchDue } from '../../workers/webhooks/dispatcher.ts';
import { nextDueAt } from '../../workers/webhooks/dispatch.store.ts';
import { enqueueDeliveries } from '../../workers/webhooks/outbox.store.ts';
import { pruneDeliveries } from '../../workers/webhooks/retention.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { event, startReceiver, testClock, testDeps, type Receiver } from './support.ts';

describe.skipIf(skipWithoutPostgres('test/webhooks/postgres.test.ts'))('webhooks on real Postgres through the Neon driver', () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let globex: TenantClient;
  let receiver: Receiver;
  beforeAll(async () => {
    pgdb = await testPostgres();
    const h = harness(pgdb.database, { config: { webhooks: { allowLoopback: true } } });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver?.close();
    await pgdb?.close();
  });

  it('lets dispatchers run side by side without sending a delivery twice (FOR UPDATE SKIP LOCKED)', async () => {
    const hooks = [];
    for (const tenant of [acme, globex]) {
      const res = await tenant.json('POST', '/v1/webhooks', { name: 'siem', url: receiver.url });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      hooks.push(res.body.webhook.id);
      const cluster = (await tenant.json('POST', '/v1/clusters', { name: 'prod' })).body.id;
      const handle = pgdb.database.open();
      await inTenant(handle.db, tenant.id, (tx) => enqueueDeliveries(tx, tenant.id, cluster, Array.from({ length: 15 }, () => event())));
      await handle.close();
    }
    // A slow receiver, so that the dispatchers' passes overlap.
    receiver.respond = () => ({ status: 200 });
    const clock = testClock(new Date(Date.now() + 1000));
    const slowFetch: typeof fetch = async (input, init) => {
      await new Promise((r) => setTimeout(r, 50));
      return fetch(input, init);
    };
    const dispatcher = async () => {
      const handle = pgdb.database.open();
      let sent = 0;
      try {
        for (;;) {
          // Caps high enough that every dispatcher finds work (with the default two per endpoint, one would take it all).
          const r = await dispatchDue(handle.db, testDeps(clock, { fetch: slowFetch, batchSize: 4, perEndpoint: 15, perTenant: 15 }));
          sent += r.attempted;
          if (r.attempted === 0) return sent;
        }
      } finally {
        await handle.close();
      }
    };
    const counts = await Promise.all([dispatcher(), dispatcher(), dispatcher()]);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
    expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    const ids = receiver.received.map((r) => r.headers['webhook-id']);
    expect(ids).toHaveLength(30);
    expect(new Set(ids).size).toBe(30);
    const handle = pgdb.database.open();
    expect(await nextDueAt(handle.db)).toBeUndefined();
    await handle.close();
    expect((await acme.json('GET', `/v1/webhooks/${hooks[0]}/deliveries?status=delivered&limit=100`)).body.items).toHaveLength(15);
    expect((await globex.json('GET', `/v1/webhooks/${hooks[1]}/deliveries?status=delivered&limit=100`)).body.items).toHaveLength(15);
  });

  it('keeps the tables closed to the app role across tenants and open to the system role', async () => {
    const run = (role: string, tenant?: string) =>
      pgdb.admin.connect().then(async (client) => {
        try {
          await client.query('begin');
          await client.query(`select set_config('role', $1, true), set_config('app.tenant_id', $2, true)`, [role, tenant ?? '']);
          const { rows } = await client.query('select count(*)::int as n, count(distinct tenant_id)::int as tenants from webhook_deliveries');
          const secrets = await client.query('select count(*)::int as n from webhooks');
          await client.query('rollback');
          return { deliveries: rows[0].n, tenants: rows[0].tenants, webhooks: secrets.rows[0].n };
        } finally {
          client.release();
        }
      });
    expect(await run('palisade_app', acme.id)).toEqual({ deliveries: 15, tenants: 1, webhooks: 1 });
    expect(await run('palisade_app')).toEqual({ deliveries: 0, tenants: 0, webhooks: 0 });
    expect(await run('palisade_system')).toEqual({ deliveries: 30, tenants: 2, webhooks: 2 });
  });

  it('prunes finished deliveries past the retention as palisade_system, never pending ones', async () => {
    const { admin } = pgdb;
    // acme's deliveries were delivered 40 days ago; one of globex's is pending since then.
    await admin.query(`update webhook_deliveries set delivered_at = now() - interval '40 days' where tenant_id = $1`, [acme.id]);
    const pending = (await admin.query(`select id from webhook_deliveries where tenant_id = $1 limit 1`, [globex.id])).rows[0].id;
    await admin.query(`update webhook_deliveries set status = 'pending', created_at = now() - interval '40 days', last_attempt_at = null, next_attempt_at = now() + interval '1 day' where id = $1`, [pending]);
    const handle = pgdb.database.open();
    try {
      expect(await pruneDeliveries(handle.db, new Date())).toEqual({ deleted: 15 });
      expect(await pruneDeliveries(handle.db, new Date(Date.now() + 29 * 86_400_000))).toEqual({ deleted: 0 });
      expect(await pruneDeliveries(handle.db, new Date(Date.now() + 31 * 86_400_000))).toEqual({ deleted: 14 });
    } finally {
      await handle.close();
    }
    expect((await admin.query('select id, status from webhook_deliveries')).rows).toEqual([{ id: pending, status: 'pending' }]);
  });

  it('holds the per-endpoint cap across dispatchers running side by side', async () => {
    const capped = await startReceiver();
    const res = await acme.json('POST', '/v1/webhooks', { name: 'capped', url: capped.url });
    expect(res.status).toBe(201);
    const cluster = (await acme.json('POST', '/v1/clusters', { name: 'capped' })).body.id;
    const handle = pgdb.database.open();
    await inTenant(handle.db, acme.id, (tx) => enqueueDeliveries(tx, acme.id, cluster, Array.from({ length: 12 }, () => event())));
    await handle.close();
    let now = 0;
    let most = 0;
    const slowFetch: typeof fetch = async (input, init) => {
      if (String(input) !== capped.url) return fetch(input, init);
      most = Math.max(most, ++now);
      try {
        await new Promise((r) => setTimeout(r, 100));
        return await fetch(input, init);
      } finally {
        now--;
      }
    };
    const clock = testClock(new Date(Date.now() + 1000));
    const dispatcher = async () => {
      const h = pgdb.database.open();
      try {
        let sent = 0;
        for (let idle = 0; idle < 20; ) {
          const r = await dispatchDue(h.db, testDeps(clock, { fetch: slowFetch, pollMs: 20 }));
          sent += r.attempted;
          idle = r.attempted === 0 ? idle + 1 : 0;
          if (r.attempted === 0) await new Promise((r) => setTimeout(r, 20));
        }
        return sent;
      } finally {
        await h.close();
      }
    };
    const counts = await Promise.all([dispatcher(), dispatcher(), dispatcher()]);
    expect(counts.every((c) => c >= 0)).toBe(true);
    expect(capped.received).toHaveLength(12);
    expect(most).toBe(2);
    await capped.close();
  });
});
