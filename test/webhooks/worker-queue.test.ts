import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { startReceiver, verifyAsReceiver, type Receiver } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const OPERATOR_KEY = 'operator-webhook-queue-test-key';

/**
 * The Workers glue of the dispatcher (worker.ts): the app wakes it with a Queue message, the queue consumer sends,
 * and queues a delayed wake for a retry due soon; the cron trigger sends what is due without any message.
 */
describe.skipIf(skipWithoutPostgres('test/webhooks/worker-queue.test.ts'))('the webhook dispatcher in the Workers bundle (Miniflare, Queues)', () => {
  let pgdb: TestPostgres | undefined;
  let mf: Miniflare | undefined;
  let outdir: string | undefined;
  let receiver: Receiver;
  let key = OPERATOR_KEY;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await mf!.dispatchFetch(`http://palisade.test${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.wrangler'), { recursive: true });
    outdir = mkdtempSync(join(ROOT, '.wrangler/test-'));
    const building = promisify(execFile)(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' },
      timeout: 120_000,
    });
    building.catch(() => {});
    pgdb = await testPostgres();
    receiver = await startReceiver();
    await building;
    const bundle = join(outdir, 'worker.js');
    const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))![1]!;
    mf = new Miniflare({
      modules: [{ type: 'ESModule', path: bundle, contents: readFileSync(bundle, 'utf8') }],
      compatibilityDate,
      bindings: {
        DATABASE_URL: pgdb.url,
        PALISADE_OPERATOR_KEY: OPERATOR_KEY,
        PALISADE_SIGNING_KEY: JSON.stringify((await generateSigningKey()).privateJwk),
        PALISADE_NEON_WS_PROXY: pgdb.proxy.address,
        PALISADE_WEBHOOKS_ALLOW_LOOPBACK: 'true',
      },
      queueProducers: { WEBHOOK_QUEUE: 'palisade-webhooks' },
      queueConsumers: { 'palisade-webhooks': { maxBatchTimeout: 1 } },
    });
    const created = await call('POST', '/v1/tenants', { name: 'acme' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    key = created.body.apiKey;
  }, 180_000);

  afterAll(async () => {
    await mf?.dispose();
    await receiver?.close();
    await pgdb?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('sends a test delivery woken through the queue, and retries a failure on a delayed wake', async () => {
    let first = true;
    receiver.respond = () => (first ? ((first = false), { status: 500 }) : { status: 200 });
    const hook = await call('POST', '/v1/webhooks', { name: 'local', url: receiver.url });
    expect(hook.status, JSON.stringify(hook.body)).toBe(201);
    const ping = await call('POST', `/v1/webhooks/${hook.body.webhook.id}/test`);
    expect(ping.status).toBe(202);
    await vi.waitFor(() => expect(receiver.received).toHaveLength(1), { timeout: 15_000, interval: 200 });
    // The 500 is retried after 5 s (±10 %): the consumer queued a delayed wake for it.
    await vi.waitFor(() => expect(receiver.received).toHaveLength(2), { timeout: 20_000, interval: 250 });
    for (const r of receiver.received) expect(r.headers['webhook-id']).toBe(ping.body.id);
    expect(verifyAsReceiver(hook.body.secret, receiver.received[1]!)).toMatchObject({ type: 'webhook.test' });
    await vi.waitFor(async () => expect((await call('GET', `/v1/webhooks/${hook.body.webhook.id}/deliveries/${ping.body.id}`)).body).toMatchObject({ status: 'delivered', attempts: 2 }), {
      timeout: 5000,
    });
  }, 60_000);

  it('sends what is due from the cron trigger, without a queue message', async () => {
    const hook = await call('POST', '/v1/webhooks', { name: 'cron', url: receiver.url });
    receiver.respond = () => ({ status: 200 });
    receiver.received.length = 0;
    const tenantId = (await pgdb!.admin.query('select tenant_id from webhooks where id = $1', [hook.body.webhook.id])).rows[0].tenant_id;
    await pgdb!.admin.query(`insert into webhook_deliveries (tenant_id, id, webhook_id, event_type, payload) values ($1, 'msg_0000000000000000000000000000c0de', $2, 'webhook.test', '{"type":"webhook.test"}')`, [
      tenantId,
      hook.body.webhook.id,
    ]);
    const worker = (await mf!.getWorker()) as unknown as { scheduled(options: { cron: string }): Promise<unknown> };
    await worker.scheduled({ cron: '* * * * *' });
    await vi.waitFor(() => expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_0000000000000000000000000000c0de']), { timeout: 10_000 });
  }, 30_000);
});
