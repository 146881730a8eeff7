import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';
import { startReceiver, verifyAsReceiver, type Receiver } from './support.ts';

/**
 * The Workers glue of the dispatcher (worker.ts): the app wakes it with a Queue message, the queue consumer sends,
 * and queues a delayed wake for a retry due soon; the cron trigger sends what is due without any message.
 */
describe.skipIf(skipWithoutPostgres('test/webhooks/worker-queue.test.ts'))('the webhook dispatcher in the Workers bundle (Miniflare, Queues)', () => {
  let worker: BootedWorker | undefined;
  let receiver: Receiver;
  const call: BootedWorker['call'] = (...args) => worker!.call(...args);

  beforeAll(async () => {
    receiver = await startReceiver();
    worker = await bootWorker({ bindings: { PALISADE_WEBHOOKS_ALLOW_LOOPBACK: 'true' }, webhookQueue: true });
    await worker.tenant('acme');
  }, 180_000);

  afterAll(async () => {
    await worker?.close();
    await receiver?.close();
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
    const { pgdb } = worker!;
    const tenantId = (await pgdb.admin.query('select tenant_id from webhooks where id = $1', [hook.body.webhook.id])).rows[0].tenant_id;
    await pgdb.admin.query(`insert into webhook_deliveries (tenant_id, id, webhook_id, event_type, payload) values ($1, 'msg_0000000000000000000000000000c0de', $2, 'webhook.test', '{"type":"webhook.test"}')`, [
      tenantId,
      hook.body.webhook.id,
    ]);
    await worker!.scheduled('* * * * *');
    await vi.waitFor(() => expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual(['msg_0000000000000000000000000000c0de']), { timeout: 10_000 });
  }, 30_000);
});
