import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTenant } from '../../workers/db/db.ts';
import { enqueueDeliveries } from '../../workers/webhooks/outbox.store.ts';
import { harness, keyWithRights, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { event } from './support.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database, { config: { webhooks: { allowLoopback: true } } });
let acme: TenantClient;
let hook: string;
const secretEvent = event({ workload: { namespace: 'payments', kind: 'Deployment', name: 'card-vault' } });

beforeAll(async () => {
  acme = await h.tenant('acme');
  const cluster = (await acme.json('POST', '/v1/clusters', { name: 'c' })).body.id;
  hook = (await acme.json('POST', '/v1/webhooks', { name: 'siem', url: 'http://127.0.0.1:9/hook' })).body.webhook.id;
  await inTenant(database.db, acme.id, (tx) => enqueueDeliveries(tx, acme.id, cluster, [secretEvent]));
  expect((await acme.json('POST', `/v1/webhooks/${hook}/test`)).status).toBe(202);
});

describe('webhook delivery payloads', () => {
  it('are shown to webhooks.view only with audit.view; without it, metadata only', async () => {
    const watcher = h.as(acme, await keyWithRights(acme, ['webhooks.view']));
    const list = await watcher.json('GET', `/v1/webhooks/${hook}/deliveries`);
    expect(list.status).toBe(200);
    expect(list.body.items).toHaveLength(2);
    const audit = list.body.items.find((d: { eventType: string }) => d.eventType === 'audit.event');
    expect(audit).toMatchObject({ status: 'pending', attempts: 0 });
    expect(audit).not.toHaveProperty('payload');
    const one = await watcher.json('GET', `/v1/webhooks/${hook}/deliveries/${audit.id}`);
    expect(one.body).not.toHaveProperty('payload');
    for (const res of [list, one]) expect(JSON.stringify(res.body)).not.toMatch(/card-vault|payments/);
    // A test ping carries nothing from the audit log.
    expect(list.body.items.find((d: { eventType: string }) => d.eventType === 'webhook.test').payload).toMatchObject({ type: 'webhook.test' });

    const auditor = h.as(acme, await keyWithRights(acme, ['webhooks.view', 'audit.view']));
    const full = await auditor.json('GET', `/v1/webhooks/${hook}/deliveries/${audit.id}`);
    expect(full.body.payload).toMatchObject({ type: 'audit.event', data: { event: { id: secretEvent.id } } });
  });

  it('are left out of the answer to a retry by a key without audit.view', async () => {
    await database.client.exec(`update webhook_deliveries set status = 'failed' where event_type = 'audit.event'`);
    const manager = h.as(acme, await keyWithRights(acme, ['webhooks.view', 'webhooks.manage']));
    const list = await manager.json('GET', `/v1/webhooks/${hook}/deliveries?status=failed`);
    const retried = await manager.json('POST', `/v1/webhooks/${hook}/deliveries/${list.body.items[0].id}/retry`);
    expect(retried.status).toBe(202);
    expect(retried.body).not.toHaveProperty('payload');
  });
});
