import type { Context, Hono } from 'hono';
import { DeliveryStatus } from '../../schema/webhooks.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant, type Tx } from '../db/db.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { encodeCursor, parsePage } from '../http/pagination.ts';
import { deliveryWire, getDelivery, listDeliveries, requeueDelivery, type DeliveryRow } from './deliveries.store.ts';
import { DELIVERY_ID } from './outbox.store.ts';
import { loadWebhook, wake, type WebhookSettings } from './webhook-kind.ts';


const QUERY = new Set(['status', 'limit', 'cursor']);
const badParameters = (errors: Array<{ parameter: string; detail: string }>) => new PalisadeError('invalid_parameters', 'invalid query parameters', { errors });

async function loadDelivery(c: Context<AppEnv>, tx: Tx, lock?: 'update'): Promise<DeliveryRow> {
  const webhook = await loadWebhook(c, tx);
  const id = c.req.param('deliveryId') ?? '';
  const row = DELIVERY_ID.test(id) ? await getDelivery(tx, webhook.tenantId, webhook.id, id, lock) : undefined;
  if (!row) throw notFound(`delivery ${id}`);
  return row;
}

/** The delivery log of one endpoint: status, attempts, the last answer; failed deliveries can be sent again. */
export function registerDeliveryRoutes(app: Hono<AppEnv>, settings: WebhookSettings): void {
  const base = '/v1/webhooks/:id/deliveries';

  app.get(base, requireRight('webhooks.view'), async (c) => {
    const query = c.req.query();
    const unknown = Object.keys(query).filter((k) => !QUERY.has(k));
    if (unknown.length > 0) throw badParameters(unknown.map((parameter) => ({ parameter, detail: 'not a filter; use status' })));
    const status = query.status === undefined ? undefined : DeliveryStatus.safeParse(query.status).data;
    if (query.status !== undefined && !status) throw badParameters([{ parameter: 'status', detail: `must be one of ${DeliveryStatus.options.join(', ')}` }]);
    const page = parsePage(query, DELIVERY_ID);
    const principal = c.get('principal');
    const { rows, more } = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const webhook = await loadWebhook(c, tx);
      return listDeliveries(tx, principal.tenantId, webhook.id, page, status);
    });
    const last = rows.at(-1);
    return c.json({ items: rows.map((r) => deliveryWire(r, principal.rights)), ...(more && last ? { nextCursor: encodeCursor(last.id) } : {}) });
  });

  app.get(`${base}/:deliveryId`, requireRight('webhooks.view'), async (c) => {
    const principal = c.get('principal');
    const row = await inTenant(c.get('db'), principal.tenantId, (tx) => loadDelivery(c, tx));
    return c.json(deliveryWire(row, principal.rights));
  });

  /** Failed → pending now, with a fresh schedule and the same `webhook-id`. */
  app.post(`${base}/:deliveryId/retry`, requireRight('webhooks.manage'), async (c) => {
    const principal = c.get('principal');
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const existing = await loadDelivery(c, tx, 'update');
      if (existing.status !== 'failed') throw new PalisadeError('conflict', `only failed deliveries can be sent again; this one is ${existing.status}`);
      return requeueDelivery(tx, existing, settings.now());
    });
    await wake(settings);
    return c.json(deliveryWire(row, principal.rights), 202);
  });
}
