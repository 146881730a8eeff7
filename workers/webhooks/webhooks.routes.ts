import { and, eq, sql } from 'drizzle-orm';
import type { Context, Hono } from 'hono';
import { RotateSecretInput, WebhookInput } from '../../schema/webhooks.ts';
import { webhooks } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';
import { etagOf } from '../http/etag.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectRow } from '../objects/object-kind.ts';
import { registerObjectRoutes, toWire } from '../objects/objects.routes.ts';
import { insertObject } from '../objects/objects.store.ts';
import { registerDeliveryRoutes } from './deliveries.routes.ts';
import { deliveryWire, getDelivery } from './deliveries.store.ts';
import { enqueuePing } from './outbox.store.ts';
import { generateSecret } from './signing.ts';
import { loadWebhook, wake, webhookKind, type WebhookSettings } from './webhook-kind.ts';

/** An optional JSON body: none (or an empty one) takes the defaults. */
async function optionalBody(c: Context<AppEnv>) {
  const text = await c.req.text();
  return validate(RotateSecretInput, text.trim() === '' ? {} : await readJson(c));
}

export function registerWebhookRoutes(app: Hono<AppEnv>, settings: WebhookSettings): void {
  const kind = webhookKind(settings);
  const manage = requireRight('webhooks.manage');

  /** Create: the signing secret is answered once; later reads never show it. */
  app.post(kind.path, manage, async (c) => {
    const principal = c.get('principal');
    const spec = await validate(WebhookInput, await readJson(c));
    const secret = generateSecret();
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      await kind.beforeWrite!({ tx, principal }, spec, undefined);
      return insertObject(tx, kind, spec, principal, { secret });
    });
    c.header('ETag', etagOf(row.version));
    c.header('Location', `${kind.path}/${row.id}`);
    return c.json({ webhook: toWire(kind, row), secret }, 201);
  });

  /** A new secret, answered once; the replaced one keeps signing too (a second signature) for the overlap. */
  app.post(`${kind.path}/:id/rotate-secret`, manage, async (c) => {
    const principal = c.get('principal');
    const { overlapSeconds } = await optionalBody(c);
    const secret = generateSecret();
    const until = overlapSeconds > 0 ? new Date(settings.now().getTime() + overlapSeconds * 1000).toISOString() : null;
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const existing = await loadWebhook(c, tx, 'update');
      const [updated] = await tx
        .update(webhooks)
        .set({
          secret,
          previousSecret: until ? existing.secret : null,
          previousSecretExpiresAt: until,
          version: existing.version + 1,
          updatedAt: sql`now()`,
          updatedBy: principal.subject,
        })
        .where(and(eq(webhooks.tenantId, principal.tenantId), eq(webhooks.id, existing.id)))
        .returning();
      return updated as unknown as ObjectRow;
    });
    c.header('ETag', etagOf(row.version));
    return c.json({ webhook: toWire(kind, row), secret });
  });

  /** A `webhook.test` delivery, sent at once; follow it in the delivery log. */
  app.post(`${kind.path}/:id/test`, manage, async (c) => {
    const principal = c.get('principal');
    const delivery = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      const existing = await loadWebhook(c, tx);
      if (!existing.enabled) throw new PalisadeError('conflict', 'the webhook is disabled; enable it to send a test');
      return getDelivery(tx, principal.tenantId, existing.id, await enqueuePing(tx, principal.tenantId, existing.id, settings.now()));
    });
    await wake(settings);
    c.header('Location', `${kind.path}/${delivery!.webhookId}/deliveries/${delivery!.id}`);
    return c.json(deliveryWire(delivery!, c.get('principal').rights), 202);
  });

  registerDeliveryRoutes(app, settings);
  registerObjectRoutes(app, kind);
}
