import { sql } from 'drizzle-orm';
import { bigint, boolean, customType, index, integer, jsonb, pgPolicy, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { systemRole } from './audit.ts';
import { appRole, bySecretCheck, tenantId, tenantPolicy, timestampColumn } from './common.ts';
import { clusters } from './objects.ts';

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => 'bytea' });
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/** Before the tenant is known, a secret's holder sees exactly the row its hash names (as for API keys). */
const bySecret = (table: string, column: string) => [
  pgPolicy(`${table}_by_secret`, { for: 'select', to: appRole, using: sql.raw(`${column} = nullif(current_setting('app.key_hash', true), '')`) }),
  pgPolicy(`${table}_touch_by_secret`, {
    for: 'update',
    to: appRole,
    using: sql.raw(`${column} = nullif(current_setting('app.key_hash', true), '')`),
    withCheck: bySecretCheck(table, column),
  }),
];

/** One-time tokens an agent exchanges for a cluster credential. */
export const enrollmentTokens = pgTable(
  'enrollment_tokens',
  {
    tenantId: tenantId(),
    id: uuid('id').primaryKey(),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull(),
    expiresAt: timestampColumn('expires_at').notNull(),
    usedAt: timestampColumn('used_at'),
    createdAt: timestampColumn('created_at').notNull().defaultNow(),
    createdBy: text('created_by').notNull(),
  },
  (t) => [uniqueIndex('enrollment_tokens_hash').on(t.tokenHash), tenantPolicy('enrollment_tokens'), ...bySecret('enrollment_tokens', 'token_hash')],
).enableRLS();

/** Credentials agents authenticate with; revocable, and rotation (once per credential) leaves the old one valid for an overlap. */
export const clusterCredentials = pgTable(
  'cluster_credentials',
  {
    tenantId: tenantId(),
    id: uuid('id').primaryKey(),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    prefix: text('prefix').notNull(),
    secretHash: text('secret_hash').notNull(),
    createdAt: timestampColumn('created_at').notNull().defaultNow(),
    expiresAt: timestampColumn('expires_at'),
    revokedAt: timestampColumn('revoked_at'),
    lastUsedAt: timestampColumn('last_used_at'),
    /** The credential this one was rotated from; revocation follows the chain both ways. */
    rotatedFrom: uuid('rotated_from'),
  },
  (t) => [
    uniqueIndex('cluster_credentials_hash').on(t.secretHash),
    // A credential is rotated at most once: a second successor of the same one is refused by the database too.
    uniqueIndex('cluster_credentials_rotated_from').on(t.rotatedFrom).where(sql`${t.rotatedFrom} is not null`),
    index('cluster_credentials_cluster').on(t.tenantId, t.clusterId),
    tenantPolicy('cluster_credentials'),
    ...bySecret('cluster_credentials', 'secret_hash'),
  ],
).enableRLS();

/** The compiled, signed bundle per cluster. `stale` is set in the same transaction as any change it depends on. */
export const clusterBundles = pgTable(
  'cluster_bundles',
  {
    tenantId: tenantId(),
    clusterId: uuid('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
    revision: integer('revision').notNull().default(0),
    digest: text('digest'),
    /** Canonical JSON of the content. */
    content: text('content'),
    jws: text('jws'),
    kid: text('kid'),
    issuedAt: timestampColumn('issued_at'),
    expiresAt: timestampColumn('expires_at'),
    stale: boolean('stale').notNull().default(true),
    /** The JWS gzipped once when signed, so a download sends stored bytes instead of compressing megabytes. */
    jwsGzip: bytea('jws_gzip'),
  },
  (t) => [index('cluster_bundles_tenant').on(t.tenantId), tenantPolicy('cluster_bundles')],
).enableRLS();

/**
 * One row per tenant whose `marker` rises in the same transaction as anything an agent poll depends on (bundle
 * sources, credential revocation or rotation, cluster deletion): the source of truth that caches shared by instances
 * compare their entries with. `changed_xid` lets one query read every marker that may have changed since a
 * watermark (workers/agents/change-markers.ts); palisade_system reads them across tenants.
 */
export const changeMarkers = pgTable(
  'change_markers',
  {
    tenantId: uuid('tenant_id').primaryKey(),
    marker: bigint('marker', { mode: 'number' }).notNull().default(0),
    changedXid: xid8('changed_xid').notNull().default(sql`pg_current_xact_id()`),
  },
  () => [tenantPolicy('change_markers'), pgPolicy('change_markers_system_select', { for: 'select', to: systemRole, using: sql`true` })],
).enableRLS();

/** What the agent last reported. */
export const clusterStatus = pgTable(
  'cluster_status',
  {
    tenantId: tenantId(),
    clusterId: uuid('cluster_id').primaryKey().references(() => clusters.id, { onDelete: 'cascade' }),
    status: jsonb('status').notNull(),
    reportedAt: timestampColumn('reported_at').notNull().defaultNow(),
  },
  () => [tenantPolicy('cluster_status')],
).enableRLS();
