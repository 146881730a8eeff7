import { z } from 'zod';
import { AuditEventKind, AuditEventV1, AuditVerdict, Severity } from './audit-event.ts';
import { Description, Id, Metadata, Name, Timestamp } from './common.ts';

/**
 * Where deliveries go. `https:` only; `http:` is accepted here but refused by the server unless its development
 * setting allows loopback receivers (and then only for loopback hosts). Private addresses are refused at write and,
 * after DNS resolution, at every attempt (workers/webhooks/ssrf.ts).
 */
export const WebhookUrl = z
  .url({ protocol: /^https?$/, normalize: true })
  .max(2048)
  .refine((url) => {
    const parsed = URL.parse(url);
    return !parsed || (parsed.username === '' && parsed.password === '');
  }, 'must not hold credentials')
  .refine((url) => !url.includes('#'), 'must not hold a fragment')
  .meta({ description: 'The receiver: an `https:` URL whose host resolves to public addresses only' });

/** Which events an endpoint receives; every member given must match (an absent or empty list matches all). */
export const WebhookFilters = z
  .strictObject({
    kinds: z.array(AuditEventKind).max(AuditEventKind.options.length).optional(),
    verdicts: z.array(AuditVerdict).max(AuditVerdict.options.length).optional(),
    minSeverity: Severity.optional().meta({ description: 'Only events at least this severe' }),
    policyIds: z.array(Id).max(100).optional().meta({ description: 'Only events of these runtime policies' }),
    clusterIds: z.array(Id).max(100).optional().meta({ description: 'Only events from these clusters' }),
  })
  .meta({ id: 'WebhookFilters' });
export type WebhookFilters = z.infer<typeof WebhookFilters>;

export const WebhookInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    url: WebhookUrl,
    filters: WebhookFilters.default({}),
    enabled: z.boolean().default(true),
  })
  .meta({ id: 'WebhookInput' });
export type WebhookInput = z.infer<typeof WebhookInput>;

export const Webhook = WebhookInput.extend({
  ...Metadata.shape,
  /** Set while a rotated-out secret still signs deliveries too. */
  previousSecretExpiresAt: Timestamp.nullable().meta({ description: 'Until when deliveries also carry a signature with the previous secret' }),
  disabledReason: z.string().nullable().meta({ description: 'Why the server turned the endpoint off (e.g. it answered 410 Gone)' }),
}).meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

const Secret = z.string().meta({ description: 'The signing secret (`whsec_` + base64), shown once' });
export const WebhookCreated = z.object({ webhook: Webhook, secret: Secret }).meta({ id: 'WebhookCreated' });

export const RotateSecretInput = z
  .strictObject({
    overlapSeconds: z
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(24 * 3600)
      .meta({ description: 'How long deliveries are also signed with the secret being replaced' }),
  })
  .meta({ id: 'RotateSecretInput' });
export const SecretRotated = z.object({ webhook: Webhook, secret: Secret }).meta({ id: 'SecretRotated' });

export const DeliveryStatus = z.enum(['pending', 'delivered', 'failed']);
export type DeliveryStatus = z.infer<typeof DeliveryStatus>;

/** One message to one endpoint; its id is the `webhook-id` header, the same on every attempt. */
export const WebhookDelivery = z
  .object({
    id: z.string(),
    webhookId: Id,
    eventType: z.string(),
    status: DeliveryStatus,
    attempts: z.int().min(0),
    nextAttemptAt: Timestamp.nullable().meta({ description: 'When the next attempt is due; null unless pending' }),
    lastAttemptAt: Timestamp.nullable(),
    lastStatusCode: z.int().nullable().meta({ description: 'The HTTP status of the last answer; null if none came' }),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    deliveredAt: Timestamp.nullable(),
    payload: z.record(z.string(), z.unknown()).optional().meta({ description: 'What was or will be sent; left out for audit events unless the caller holds audit.view' }),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

/** The body of every delivery: the Standard Webhooks envelope. */
export const AuditEventPayload = z
  .object({
    type: z.literal('audit.event'),
    timestamp: Timestamp,
    data: z.object({ clusterId: Id, event: AuditEventV1 }),
  })
  .meta({ id: 'AuditEventPayload' });
export type AuditEventPayload = z.infer<typeof AuditEventPayload>;

export const PingPayload = z.object({ type: z.literal('webhook.test'), timestamp: Timestamp, data: z.object({ webhookId: Id }) });
export type PingPayload = z.infer<typeof PingPayload>;
