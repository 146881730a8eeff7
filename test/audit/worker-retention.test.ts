import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';
import { auditEvent } from './support.ts';

const DAY = 86_400_000;

/**
 * The Workers glue of audit: ingest through the bundle, and retention on the hourly cron trigger of wrangler.toml,
 * which also prunes the webhook delivery log (here with PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS=10).
 */
describe.skipIf(skipWithoutPostgres('test/audit/worker-retention.test.ts'))('audit in the Workers bundle (Miniflare)', () => {
  let worker: BootedWorker | undefined;

  beforeAll(async () => {
    worker = await bootWorker({ bindings: { PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS: '10' } });
  }, 180_000);

  afterAll(() => worker?.close());

  it('ingests gzip NDJSON through the bundle; the retention cron deletes old raw events (keeping rollups) and old finished deliveries', async () => {
    const { call, mf, pgdb } = worker!;
    await worker!.tenant('acme');
    expect((await call('PUT', '/v1/settings/audit', { auditRetentionDays: 5 })).status).toBe(200);
    const cluster = await call('POST', '/v1/clusters', { name: 'prod' });
    const token = await call('POST', `/v1/clusters/${cluster.body.id}/enrollment-tokens`, {});
    // Enrolling takes the token alone, no API key.
    const enrolled = await call('POST', '/v1/agent/enroll', { token: token.body.token }, { authorization: 'Bearer ' });
    expect(enrolled.status).toBe(201);

    const now = Date.now();
    const events = [1, 4, 6, 30].map((age) => auditEvent(new Date(now - age * DAY)));
    const body = new Response(new Blob([events.map((e) => JSON.stringify(e)).join('\n')]).stream().pipeThrough(new CompressionStream('gzip')));
    const res = await mf.dispatchFetch('http://palisade.test/v1/agent/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${enrolled.body.credential}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: new Uint8Array(await body.arrayBuffer()),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 4, duplicates: 0, rejected: [] });
    const rollups = async () => (await pgdb.admin.query('select count(*)::int as n, sum(count)::int as total from audit_rollups')).rows[0];
    const before = await rollups();
    // Webhook deliveries: delivered 12 and 8 days ago, and one pending for 100 days (due tomorrow).
    const hook = await call('POST', '/v1/webhooks', { name: 'siem', url: 'https://hooks.example.com/x' });
    expect(hook.status).toBe(201);
    for (const [id, status, age] of [['old', 'delivered', 12], ['recent', 'delivered', 8], ['owed', 'pending', 100]] as const) {
      const at = new Date(now - age * DAY).toISOString();
      await pgdb.admin.query(
        `insert into webhook_deliveries (tenant_id, id, webhook_id, event_type, payload, status, next_attempt_at, created_at, delivered_at)
         select tenant_id, $2, id, 'webhook.test', '{}', $3, $4, $5, $6 from webhooks where id = $1`,
        [hook.body.webhook.id, id, status, new Date(now + DAY).toISOString(), at, status === 'delivered' ? at : null],
      );
    }

    await worker!.scheduled('17 * * * *', new Date(now));
    const left = async () => (await pgdb.admin.query('select id from audit_events order by time desc')).rows.map((r: { id: string }) => r.id);
    await expect.poll(left, { timeout: 10_000 }).toEqual([events[0]!.id, events[1]!.id]);
    expect(await rollups()).toEqual(before);
    const deliveries = async () => (await pgdb.admin.query('select id from webhook_deliveries order by id')).rows.map((r: { id: string }) => r.id);
    await expect.poll(deliveries, { timeout: 10_000 }).toEqual(['owed', 'recent']);
    // Every other cron is the webhook dispatcher's and leaves audit events alone.
    await worker!.scheduled('* * * * *', new Date(now + 365 * DAY));
    expect((await pgdb.admin.query('select count(*)::int as n from audit_events')).rows[0].n).toBe(2);
  }, 60_000);
});
