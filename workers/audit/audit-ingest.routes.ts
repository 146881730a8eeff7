import type { Hono, MiddlewareHandler } from 'hono';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import type { AppEnv } from '../app-env.ts';
import { inTenant } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { batchFormat, parseBatch, readBatchText } from './audit-batch.ts';
import { checkEvent, type Rejection } from './audit-event.validate.ts';
import { ingestEvents } from './audit-ingest.store.ts';
import { AUDIT_DEFAULTS, type AuditConfig, type OnEventsStored } from './audit.types.ts';
import { TokenBuckets } from './rate-limit.ts';

export const INGEST_PATH = '/v1/agent/events';

export interface IngestRouteDeps {
  /** The agent credential middleware (`authenticateAgent`): tenant and cluster come only from it. */
  agentOnly: MiddlewareHandler<AppEnv>;
  now: () => Date;
  config?: AuditConfig;
  onStored?: OnEventsStored;
}

/**
 * `POST /v1/agent/events`: a batch of AuditEventV1 as a JSON array or NDJSON, plain or gzip. Each event is validated
 * on its own; the valid ones are stored in one transaction and the answer, 202 only after commit, counts them:
 * `{ accepted, duplicates, rejected: [{ index, reason, errors }] }`. A batch of which no event is valid is 422 with
 * the same members. Limits: bytes after decompression and events per batch (413), events per second per cluster (429).
 */
export function registerIngestRoutes(app: Hono<AppEnv>, deps: IngestRouteDeps): void {
  const maxBytes = deps.config?.maxBatchBytes ?? AUDIT_DEFAULTS.maxBatchBytes;
  const maxEvents = deps.config?.maxBatchEvents ?? AUDIT_DEFAULTS.maxBatchEvents;
  const maxSkewMs = deps.config?.maxClockSkewMs ?? AUDIT_DEFAULTS.maxClockSkewMs;
  const rate = deps.config?.rateLimit ?? AUDIT_DEFAULTS.rateLimit;
  const buckets = new TokenBuckets(rate.eventsPerSecond, rate.burst);

  app.use(INGEST_PATH, deps.agentOnly);
  app.post(INGEST_PATH, async (c) => {
    const agent = c.get('agent');
    const at = deps.now();
    // An empty bucket is refused before the body is read; a full check follows once the batch is counted.
    buckets.ensure(agent.clusterId, 1, at.getTime());
    const format = batchFormat(c.req.header('content-type'));
    const items = parseBatch(await readBatchText(c.req.raw, maxBytes), format, maxEvents);
    buckets.take(agent.clusterId, items.length, at.getTime());

    const valid: AuditEventV1[] = [];
    const rejected: Rejection[] = [];
    for (const item of items) {
      if ('malformed' in item) {
        rejected.push({ index: item.index, reason: item.malformed });
        continue;
      }
      const checked = checkEvent(item.index, item.value, at.getTime(), maxSkewMs);
      if (checked.ok) valid.push(checked.event);
      else rejected.push(checked.rejection);
    }
    if (items.length > 0 && valid.length === 0) {
      const errors = rejected.flatMap((r) => (r.errors ?? [{ pointer: '', detail: r.reason }]).map((e) => ({ ...e, pointer: `/${r.index}${e.pointer ?? ''}` })));
      throw new PalisadeError('validation_failed', `none of the ${items.length} events is valid`, { errors: errors.slice(0, 100), extensions: { accepted: 0, duplicates: 0, rejected } });
    }
    const result =
      valid.length === 0
        ? { stored: [], duplicates: 0 }
        : await inTenant(c.get('db'), agent.tenantId, (tx) =>
            ingestEvents(tx, { tenantId: agent.tenantId, clusterId: agent.clusterId, receivedAt: at.toISOString(), events: valid }, { onStored: deps.onStored }),
          );
    return c.json({ accepted: result.stored.length, duplicates: result.duplicates, rejected }, 202);
  });
}
