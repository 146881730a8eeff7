import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromEnv } from '../../workers/config.ts';
import { startRetentionTimer } from '../../workers/node.ts';
import { DEFAULT_DELIVERY_RETENTION_DAYS, pruneDeliveries } from '../../workers/webhooks/retention.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
const DAY = 86_400_000;
const now = new Date();
const ago = (days: number) => new Date(now.getTime() - days * DAY + 60_000).toISOString();
const q = (text: string, params: unknown[] = []) => database.client.query<any>(text, params);

/** Each delivery: status and ages in days (null: never) of creation, last attempt and delivery; `keep` at 30 days. */
const LOG = {
  deliveredOld: { status: 'delivered', created: 40, attempted: 31, delivered: 31, keep: false },
  deliveredRecent: { status: 'delivered', created: 40, attempted: 29, delivered: 29, keep: true },
  failedOld: { status: 'failed', created: 60, attempted: 35, delivered: null, keep: false },
  // Created long ago, but its last attempt (say, sent again by hand) was recent: the last activity counts.
  failedRecent: { status: 'failed', created: 60, attempted: 10, delivered: null, keep: true },
  // Failed without an attempt (its endpoint answered 410 to another delivery): its creation counts.
  failedNeverSent: { status: 'failed', created: 45, attempted: null, delivered: null, keep: false },
  pendingAncient: { status: 'pending', created: 400, attempted: 300, delivered: null, keep: true },
  pendingNeverSent: { status: 'pending', created: 100, attempted: null, delivered: null, keep: true },
} as const;
type Name = keyof typeof LOG;
const tenants: TenantClient[] = [];

beforeAll(async () => {
  for (const name of ['acme', 'globex']) {
    const tenant = await h.tenant(name);
    tenants.push(tenant);
    const hook = await tenant.json('POST', '/v1/webhooks', { name: 'siem', url: 'https://hooks.example.com/x' });
    expect(hook.status).toBe(201);
    for (const [id, d] of Object.entries(LOG)) {
      const at = (days: number | null) => (days === null ? null : ago(days));
      await q(
        `insert into webhook_deliveries (tenant_id, id, webhook_id, event_type, payload, status, attempts, next_attempt_at, last_attempt_at, created_at, delivered_at)
         values ($1, $2, $3, 'webhook.test', '{}', $4, $5, $6, $7, $8, $9)`,
        [tenant.id, `${name}-${id}`, hook.body.webhook.id, d.status, d.attempted === null ? 0 : 3, ago(-1), at(d.attempted), at(d.created), at(d.delivered)],
      );
    }
  }
});

const remaining = async () => ((await q('select id from webhook_deliveries order by id')).rows as Array<{ id: string }>).map((r) => r.id);
const named = (names: Name[]) => ['acme', 'globex'].flatMap((t) => names.map((n) => `${t}-${n}`)).sort();
const kept = (Object.keys(LOG) as Name[]).filter((n) => LOG[n].keep);

describe('webhook delivery retention', () => {
  it('deletes delivered and failed deliveries past the retention, by last activity, across tenants; never pending ones', async () => {
    expect(DEFAULT_DELIVERY_RETENTION_DAYS).toBe(30);
    expect(await pruneDeliveries(database.db, now)).toEqual({ deleted: 2 * 3 });
    expect(await remaining()).toEqual(named(kept));
    expect(await pruneDeliveries(database.db, now)).toEqual({ deleted: 0 });
    // The log the tenant reads says the same.
    const hookId = (await tenants[0]!.json('GET', '/v1/webhooks')).body.items[0].id;
    const log = (await tenants[0]!.json('GET', `/v1/webhooks/${hookId}/deliveries?limit=100`)).body.items.map((d: { id: string }) => d.id);
    expect(log.sort()).toEqual(kept.map((n) => `acme-${n}`).sort());
  });

  it('finds finished deliveries through their partial index', async () => {
    await q('set enable_seqscan = off');
    try {
      const plan = (await q(`explain delete from webhook_deliveries where status <> 'pending' and coalesce(delivered_at, last_attempt_at, created_at) < now()`)).rows;
      expect(JSON.stringify(plan)).toContain('webhook_deliveries_finished');
    } finally {
      await q('reset enable_seqscan');
    }
  });

  it('refuses a retention that is not a whole number of days, at least one, and deletes nothing', async () => {
    for (const days of [0, -1, 1.5, Number.NaN]) await expect(pruneDeliveries(database.db, now, days)).rejects.toThrow(RangeError);
    expect(() => configFromEnv({ PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS: 'forever' })).toThrow(/whole number of days/);
    expect(configFromEnv({ PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS: '7' }).app.webhooks?.deliveryRetentionDays).toBe(7);
    expect(configFromEnv({}).app.webhooks?.deliveryRetentionDays).toBeUndefined();
    expect(await remaining()).toEqual(named(kept));
  });

  it('runs from the Node retention timer with a configured retention', async () => {
    const stop = startRetentionTimer(database.db, 60_000, 10, 7);
    try {
      await expect.poll(remaining, { timeout: 5000 }).toEqual(named(['pendingAncient', 'pendingNeverSent']));
    } finally {
      stop();
    }
  });
});
