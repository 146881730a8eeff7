import { sql } from 'drizzle-orm';
import { boolean, index, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ComplianceReason } from '../assurance-policies.ts';
import type { ClusterInput } from '../clusters.ts';
import type { Compliance, ImageRegistrySync, ImageSpec } from '../images.ts';
import type { RegistrySpec, RegistrySyncStatus } from '../registries.ts';
import type { RuntimePolicySpec } from '../runtime-policies.ts';
import type { RuntimeProfileSpec } from '../runtime-profiles.ts';
import type { ScopeInput } from '../scopes.ts';
import type { SignatureValidatorInput } from '../signature-validators.ts';
import { systemPolicy } from './audit.ts';
import { objectColumns, tenantPolicy, timestampColumn, listOrder } from './common.ts';

export const scopes = pgTable(
  'scopes',
  { ...objectColumns<ScopeInput>(), global: boolean('global').notNull().default(false) },
  (t) => [uniqueIndex('scopes_tenant_name').on(t.tenantId, t.name), listOrder('scopes', t), tenantPolicy('scopes')],
).enableRLS();

export const clusters = pgTable(
  'clusters',
  objectColumns<ClusterInput>(),
  (t) => [uniqueIndex('clusters_tenant_name').on(t.tenantId, t.name), listOrder('clusters', t), tenantPolicy('clusters')],
).enableRLS();

export const runtimeProfiles = pgTable(
  'runtime_profiles',
  objectColumns<RuntimeProfileSpec>(),
  (t) => [uniqueIndex('runtime_profiles_tenant_name').on(t.tenantId, t.name), listOrder('runtime_profiles', t), tenantPolicy('runtime_profiles')],
).enableRLS();

export const signatureValidators = pgTable(
  'signature_validators',
  objectColumns<SignatureValidatorInput>(),
  (t) => [uniqueIndex('signature_validators_tenant_name').on(t.tenantId, t.name), listOrder('signature_validators', t), tenantPolicy('signature_validators')],
).enableRLS();

/**
 * Registries. `credentials`: AES-GCM ciphertext of the username and password (workers/registries/credentials.ts),
 * never returned. The sync job (across tenants, as palisade_system) finds due registries by `next_sync_at`.
 */
export const registries = pgTable(
  'registries',
  {
    ...objectColumns<RegistrySpec>(),
    credentials: text('credentials'),
    syncStatus: jsonb('sync_status').$type<RegistrySyncStatus>(),
    nextSyncAt: timestampColumn('next_sync_at'),
  },
  (t) => [
    uniqueIndex('registries_tenant_name').on(t.tenantId, t.name),
    index('registries_next_sync').on(t.nextSyncAt).where(sql`${t.nextSyncAt} is not null`),
    listOrder('registries', t), tenantPolicy('registries'),
    systemPolicy('registries', 'select'),
  ],
).enableRLS();

/** Registered images; `name` is `repository@digest`, so one image is registered once. */
export const images = pgTable(
  'images',
  {
    ...objectColumns<ImageSpec>(),
    compliance: text('compliance').$type<Compliance>().notNull(),
    lastScanAt: timestampColumn('last_scan_at'),
    /** Why the image is non-compliant (workers/assurance/), empty otherwise. */
    complianceReasons: jsonb('compliance_reasons').$type<ComplianceReason[]>().notNull().default([]),
    /** When a compliant verdict lapses with time alone (scan age, allow-list expiry); the hourly job looks here. */
    compliantUntil: timestampColumn('compliant_until'),
    /** What registry sync saw: tags it removed, when the image was last listed (workers/registries/sync.ts). */
    registrySync: jsonb('registry_sync').$type<ImageRegistrySync>(),
  },
  (t) => [
    uniqueIndex('images_tenant_name').on(t.tenantId, t.name),
    index('images_tenant_digest').on(t.tenantId, sql`(${t.spec}->>'digest')`),
    index('images_compliant_until').on(t.compliantUntil).where(sql`${t.compliantUntil} is not null`),
    listOrder('images', t), tenantPolicy('images'),
    systemPolicy('images', 'select'),
  ],
).enableRLS();

export const runtimePolicies = pgTable(
  'runtime_policies',
  {
    ...objectColumns<RuntimePolicySpec>(),
    enabled: boolean('enabled').notNull(),
    mode: text('mode').$type<'audit' | 'enforce'>().notNull(),
  },
  (t) => [uniqueIndex('runtime_policies_tenant_name').on(t.tenantId, t.name), listOrder('runtime_policies', t), tenantPolicy('runtime_policies')],
).enableRLS();

/** What each policy references, so a delete can name the policies in its way. */
export const runtimePolicyReferences = pgTable(
  'runtime_policy_references',
  {
    tenantId: objectColumns().tenantId,
    policyId: uuid('policy_id').notNull().references(() => runtimePolicies.id, { onDelete: 'cascade' }),
    targetKind: text('target_kind').$type<'scope' | 'runtimeProfile' | 'signatureValidator' | 'registry'>().notNull(),
    targetId: uuid('target_id').notNull(),
  },
  (t) => [
    index('runtime_policy_references_target').on(t.tenantId, t.targetKind, t.targetId),
    index('runtime_policy_references_policy').on(t.policyId),
    tenantPolicy('runtime_policy_references'),
  ],
).enableRLS();
