import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';
import { auditEvent } from './support.ts';

const DAY = 86_400_000;

/** The Workers glue of audit: ingest through the bundle, and retention on the hourly cron trigger of wrangler.toml. */
describe.skipIf(skipWithoutPostgres('test/audit/worker-retention.test.ts'))('audit in the Workers bundle (Miniflare)', () => {
  let worker: BootedWorker | undefined;

  beforeAll(async () => {
    worker = await bootWorker();
  }, 180_000);

  afterAll(() => worker?.close());

  it('ingests gzip NDJSON through the bundle and deletes old raw events on the retention cron, keeping rollups', async () => {
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

    await worker!.scheduled('17 * * * *', new Date(now));
    const left = async () => (await pgdb.admin.query('select id from audit_events order by time desc')).rows.map((r: { id: string }) => r.id);
    await expect.poll(left, { timeout: 10_000 }).toEqual([events[0]!.id, events[1]!.id]);
    expect(await rollups()).toEqual(before);
    // Every other cron is the webhook dispatcher's and leaves audit events alone.
    await worker!.scheduled('* * * * *', new Date(now + 365 * DAY));
    expect((await pgdb.admin.query('select count(*)::int as n from audit_events')).rows[0].n).toBe(2);
  }, 60_000);
});
