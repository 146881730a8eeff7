import { listOf } from '../../schema/common.ts';
import { AuditEventPayload, DeliveryStatus, RotateSecretInput, SecretRotated, WebhookCreated, WebhookDelivery, WebhookInput } from '../../schema/webhooks.ts';
import { WEBHOOKS_PATH } from '../webhooks/webhook-kind.ts';
import { ETAG, LOCATION, PAGINATION, pathId, type Operations, type Paths } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

export const WEBHOOKS_TAG = 'Webhooks';

const deliveryId: JsonSchema = { name: 'deliveryId', in: 'path', required: true, description: "The delivery's id, which is its `webhook-id` header", schema: { type: 'string', pattern: '^msg_[0-9a-f]{32}$' } };
const statusFilter: JsonSchema = { name: 'status', in: 'query', required: false, description: 'Only deliveries in this state', schema: { type: 'string', enum: DeliveryStatus.options } };

const DELIVERY = `Deliveries follow the Standard Webhooks specification: a POST of a JSON envelope \`{ type, timestamp, data }\` (for audit events \`type\` is \`audit.event\` and \`data\` is \`{ clusterId, event }\`, an AuditEventV1) with the headers \`webhook-id\` (the same on every attempt of one delivery: deduplicate on it), \`webhook-timestamp\` (Unix seconds of the attempt) and \`webhook-signature\` (\`v1,\` + base64 HMAC-SHA256 of \`id.timestamp.body\` keyed with the base64-decoded secret after \`whsec_\`; while a rotation overlaps, two space-separated signatures, one per secret). Any 2xx acknowledges. Failures are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (±10 %), then the delivery fails; 429 and 503 may lengthen a wait with Retry-After; 410 Gone disables the endpoint. Redirects are not followed. Receivers must be https URLs whose host resolves to public addresses only.`;

/** The webhook routes beyond the generic ones: create (secret once), rotation, test, and the delivery log. */
export function webhookPaths(ops: Operations): Paths {
  const tag = WEBHOOKS_TAG;
  const item = `${WEBHOOKS_PATH}/{id}`;
  // The envelope of audit-event deliveries is documented as a component, for receivers.
  ops.schema(AuditEventPayload, 'output');
  return {
    [WEBHOOKS_PATH]: {
      post: ops.operation({
        tag,
        operationId: 'createWebhook',
        summary: 'Create a webhook',
        description: `The answer holds the signing secret, once. ${DELIVERY}`,
        right: 'webhooks.manage',
        body: { schema: WebhookInput },
        responses: { 201: ops.json('The webhook and its signing secret', WebhookCreated, { ETag: ETAG, Location: LOCATION }) },
        problems: { 409: 'Another webhook has this name, or the tenant already has the most webhooks allowed (20)', 422: 'Invalid fields (an URL that is not https or points at a private, loopback, link-local or metadata address), or unknown policies or clusters in the filters' },
      }),
    },
    [`${item}/rotate-secret`]: {
      post: ops.operation({
        tag,
        operationId: 'rotateWebhookSecret',
        summary: 'Rotate the signing secret of a webhook',
        description: 'Answers a new secret, once. For `overlapSeconds` (24 h unless given; 0 for none) deliveries carry a second signature made with the replaced secret, so receivers can switch over. Rotating again ends the earlier overlap.',
        right: 'webhooks.manage',
        parameters: [pathId('webhook')],
        body: { schema: RotateSecretInput, optional: true },
        responses: { 200: ops.json('The webhook and its new secret', SecretRotated, { ETag: ETAG }) },
        problems: { 404: true },
      }),
    },
    [`${item}/test`]: {
      post: ops.operation({
        tag,
        operationId: 'testWebhook',
        summary: 'Send a test delivery',
        description: 'Queues a `webhook.test` delivery (`data: { webhookId }`), due at once; follow it in the delivery log.',
        right: 'webhooks.manage',
        parameters: [pathId('webhook')],
        responses: { 202: ops.json('The queued delivery', WebhookDelivery, { Location: LOCATION }) },
        problems: { 404: true, 409: 'The webhook is disabled' },
      }),
    },
    [`${item}/deliveries`]: {
      get: ops.operation({
        tag,
        operationId: 'listWebhookDeliveries',
        summary: 'List the deliveries of a webhook',
        description: 'The delivery log, newest first: status, attempts, the last answer and when the next attempt is due.',
        right: 'webhooks.view',
        parameters: [pathId('webhook'), statusFilter, ...PAGINATION],
        responses: { 200: ops.json('A page of deliveries; `nextCursor` is present while more follow', listOf(WebhookDelivery)) },
        problems: { 400: 'Unknown query parameters, or invalid `status`, `limit` or `cursor`', 404: true },
      }),
    },
    [`${item}/deliveries/{deliveryId}`]: {
      get: ops.operation({
        tag,
        operationId: 'getWebhookDelivery',
        summary: 'Get a delivery',
        right: 'webhooks.view',
        parameters: [pathId('webhook'), deliveryId],
        responses: { 200: ops.json('The delivery', WebhookDelivery) },
        problems: { 404: true },
      }),
    },
    [`${item}/deliveries/{deliveryId}/retry`]: {
      post: ops.operation({
        tag,
        operationId: 'retryWebhookDelivery',
        summary: 'Send a failed delivery again',
        description: 'The delivery is pending again at once, with the same `webhook-id` and a fresh retry schedule (its attempts count from 0). A disabled endpoint gets it once enabled again.',
        right: 'webhooks.manage',
        parameters: [pathId('webhook'), deliveryId],
        responses: { 202: ops.json('The delivery, pending again', WebhookDelivery) },
        problems: { 404: true, 409: 'The delivery has not failed (it is pending or delivered)' },
      }),
    },
  };
}
