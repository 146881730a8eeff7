import { sql } from 'drizzle-orm';
import { boolean, integer, jsonb, pgPolicy, pgTable, primaryKey, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { FileThreatProtectionSettings } from '../file-threat-protection.ts';
import type { RuntimePolicySpec } from '../runtime-policies.ts';
import type { Right } from '../rights.ts';
import { appRole, bySecretCheck, objectColumns, tenantId, tenantPolicy, timestampColumn, listOrder } from './common.ts';

export const tenants = pgTable(
  'tenants',
  {
    id: uuid('id').primaryKey(),
    name: text('name').notNull(),
    createdAt: timestampColumn('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('tenants_name').on(t.name),
    pgPolicy('tenants_tenant_isolation', {
      for: 'all',
      to: appRole,
      using: sql`id = palisade_current_tenant()`,
      withCheck: sql`id = palisade_current_tenant()`,
    }),
  ],
).enableRLS();

export const roles = pgTable(
  'roles',
  { ...objectColumns<{ description?: string }>(), rights: jsonb('rights').$type<Right[]>().notNull(), builtin: boolean('builtin').notNull().default(false) },
  (t) => [uniqueIndex('roles_tenant_name').on(t.tenantId, t.name), listOrder('roles', t), tenantPolicy('roles')],
).enableRLS();

/**
 * API keys, stored as SHA-256 of the secret and nothing else of it (principals are named `apiKey:<id>`). Before the tenant is known, the only row visible is the one whose hash the
 * transaction set in `app.key_hash`: knowing the secret is the capability.
 */
export const apiKeys = pgTable(
  'api_keys',
  {
    ...objectColumns<{ roleIds: string[]; expiresAt?: string }>(),
    keyHash: text('key_hash').notNull(),
    expiresAt: timestampColumn('expires_at'),
    revokedAt: timestampColumn('revoked_at'),
    lastUsedAt: timestampColumn('last_used_at'),
  },
  (t) => [
    uniqueIndex('api_keys_tenant_name').on(t.tenantId, t.name),
    uniqueIndex('api_keys_key_hash').on(t.keyHash),
    listOrder('api_keys', t), tenantPolicy('api_keys'),
    pgPolicy('api_keys_by_secret', {
      for: 'select',
      to: appRole,
      using: sql`key_hash = nullif(current_setting('app.key_hash', true), '')`,
    }),
    pgPolicy('api_keys_touch_by_secret', {
      for: 'update',
      to: appRole,
      using: sql`key_hash = nullif(current_setting('app.key_hash', true), '')`,
      withCheck: bySecretCheck('api_keys', 'key_hash'),
    }),
  ],
).enableRLS();

/** Every state a runtime policy has had; kept after the policy is deleted. */
export const runtimePolicyRevisions = pgTable(
  'runtime_policy_revisions',
  {
    tenantId: tenantId(),
    policyId: uuid('policy_id').notNull(),
    revision: integer('revision').notNull(),
    action: text('action').$type<'create' | 'update' | 'delete'>().notNull(),
    document: jsonb('document').$type<RuntimePolicySpec>().notNull(),
    changes: jsonb('changes').$type<string[]>().notNull(),
    changedAt: timestampColumn('changed_at').notNull().defaultNow(),
    changedBy: text('changed_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.policyId, t.revision] }), tenantPolicy('runtime_policy_revisions')],
).enableRLS();

export const fileThreatProtectionSettings = pgTable(
  'file_threat_protection_settings',
  {
    tenantId: tenantId().primaryKey(),
    spec: jsonb('spec').$type<FileThreatProtectionSettings>().notNull(),
    version: integer('version').notNull().default(1),
    updatedAt: timestampColumn('updated_at').notNull().defaultNow(),
    updatedBy: text('updated_by').notNull(),
  },
  () => [tenantPolicy('file_threat_protection_settings')],
).enableRLS();

/**
 * Installation-wide facts (not tenant data), such as whether the first tenant was bootstrapped. Only the connecting
 * (migrating) role reads it, at start: the app and system roles have no privileges on it (migration 0015) and, as the
 * second lock, row-level security shows them no row.
 */
export const platformState = pgTable(
  'platform_state',
  {
    key: text('key').primaryKey(),
    value: jsonb('value').notNull(),
  },
  () => [
    pgPolicy('platform_state_owner_only', {
      for: 'all',
      to: 'public',
      using: sql`current_user not in ('palisade_app', 'palisade_system')`,
      withCheck: sql`current_user not in ('palisade_app', 'palisade_system')`,
    }),
  ],
).enableRLS();
