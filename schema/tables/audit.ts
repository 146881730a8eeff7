import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgPolicy, pgRole, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { AuditEventV1 } from '../audit-event.ts';
import { objectColumns, tenantId, tenantPolicy, timestampColumn, listOrder } from './common.ts';

/**
 * Background jobs that work across tenants (webhook dispatcher, retention) switch to this role; it sees only the few
 * tables whose policies name it. Created in the migration like palisade_app.
 */
export const systemRole = pgRole('palisade_system').existing();
export const systemPolicy = (table: string, op: 'select' | 'update' | 'delete' | 'all') =>
  pgPolicy(`${table}_system_${op}`, { for: op, to: systemRole, using: sql`true`, withCheck: op === 'all' || op === 'update' ? sql`true` : undefined });

/** Raw audit events; idempotent on (tenant, event id). */
export const auditEvents = pgTable(
  'audit_events',
  {
    tenantId: tenantId(),
    id: uuid('id').notNull(),
    clusterId: uuid('cluster_id').notNull(),
    time: timestampColumn('time').notNull(),
    receivedAt: timestampColumn('received_at').notNull().defaultNow(),
    kind: text('kind').notNull(),
    verdict: text('verdict').notNull(),
    mode: text('mode'),
    severity: text('severity').notNull(),
    policyId: uuid('policy_id'),
    checkIds: text('check_ids').array().notNull(),
    namespace: text('namespace'),
    image: text('image'),
    event: jsonb('event').$type<AuditEventV1>().notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    index('audit_events_tenant_time').on(t.tenantId, t.time),
    index('audit_events_tenant_cluster_time').on(t.tenantId, t.clusterId, t.time),
    tenantPolicy('audit_events'),
    systemPolicy('audit_events', 'delete'),
    systemPolicy('audit_events', 'select'),
  ],
).enableRLS();

/**
 * Counts per bucket (hour and day) and dimension tuple, kept at ingest in the same transaction as the events, so a
 * summary never scans raw events. Empty string stands for "none" so that the tuple can be unique. `count` counts the
 * tuple's finding groups; `checks` how many of them held each check id (`{"registriesAllowed": 3}`), so that one row
 * serves totals and per-check counts alike. Migration 0019 gives the table fillfactor 70 (drizzle does not model it),
 * so that ingest's updates of counts stay on the page (HOT) instead of adding index entries.
 */
export const auditRollups = pgTable(
  'audit_rollups',
  {
    tenantId: tenantId(),
    granularity: text('granularity').$type<'hour' | 'day'>().notNull(),
    bucket: timestampColumn('bucket').notNull(),
    clusterId: text('cluster_id').notNull(),
    namespace: text('namespace').notNull(),
    policyId: text('policy_id').notNull(),
    verdict: text('verdict').notNull(),
    severity: text('severity').notNull(),
    kind: text('kind').notNull(),
    image: text('image').notNull(),
    workload: text('workload').notNull(),
    count: bigint('count', { mode: 'number' }).notNull(),
    checks: jsonb('checks').$type<Record<string, number>>().notNull().default(sql`'{}'::jsonb`),
  },
  (t) => [
    uniqueIndex('audit_rollups_key').on(t.tenantId, t.granularity, t.bucket, t.clusterId, t.namespace, t.policyId, t.verdict, t.severity, t.kind, t.image, t.workload),
    tenantPolicy('audit_rollups'),
  ],
).enableRLS();

/** Per-tenant settings that are not objects: audit retention. */
export const tenantSettings = pgTable(
  'tenant_settings',
  {
    tenantId: tenantId().primaryKey(),
    auditRetentionDays: integer('audit_retention_days').notNull().default(90),
    updatedAt: timestampColumn('updated_at').notNull().defaultNow(),
  },
  () => [tenantPolicy('tenant_settings'), systemPolicy('tenant_settings', 'select')],
).enableRLS();

/** Webhook endpoints; signing secrets are HMAC keys and must be kept readable, the previous one for an overlap. */
export const webhooks = pgTable(
  'webhooks',
  {
    ...objectColumns<Record<string, unknown>>(),
    enabled: boolean('enabled').notNull(),
    secret: text('secret').notNull(),
    previousSecret: text('previous_secret'),
    previousSecretExpiresAt: timestampColumn('previous_secret_expires_at'),
    disabledReason: text('disabled_reason'),
  },
  (t) => [uniqueIndex('webhooks_tenant_name').on(t.tenantId, t.name), listOrder('webhooks', t), tenantPolicy('webhooks'), systemPolicy('webhooks', 'all')],
).enableRLS();

/** The outbox: written in the same transaction as the events a delivery carries; the dispatcher sends from here. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    tenantId: tenantId(),
    /** The Standard Webhooks `webhook-id`, the same across retries. */
    id: text('id').primaryKey(),
    webhookId: uuid('webhook_id').notNull().references(() => webhooks.id, { onDelete: 'cascade' }),
    eventType: text('event_type').notNull(),
    payload: jsonb('payload').notNull(),
    status: text('status').$type<'pending' | 'delivered' | 'failed'>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestampColumn('next_attempt_at').notNull().defaultNow(),
    /** Set while an attempt is in flight (claimed, not yet recorded): the dispatchers' per-endpoint and per-tenant caps count these. */
    leaseUntil: timestampColumn('lease_until'),
    lastAttemptAt: timestampColumn('last_attempt_at'),
    lastStatusCode: integer('last_status_code'),
    lastError: text('last_error'),
    createdAt: timestampColumn('created_at').notNull().defaultNow(),
    deliveredAt: timestampColumn('delivered_at'),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.status, t.nextAttemptAt),
    index('webhook_deliveries_webhook').on(t.tenantId, t.webhookId, t.createdAt),
    // Fair claiming (workers/webhooks/dispatch.store.ts): the oldest due deliveries of each endpoint, and those in flight.
    index('webhook_deliveries_endpoint_due').on(t.webhookId, t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
    index('webhook_deliveries_in_flight').on(t.leaseUntil).where(sql`${t.leaseUntil} is not null`),
    // Retention (workers/webhooks/retention.ts): finished deliveries by their last activity.
    index('webhook_deliveries_finished')
      .on(sql`coalesce(${t.deliveredAt}, ${t.lastAttemptAt}, ${t.createdAt})`)
      .where(sql`${t.status} <> 'pending'`),
    tenantPolicy('webhook_deliveries'),
    systemPolicy('webhook_deliveries', 'all'),
  ],
).enableRLS();
