import { boolean, index, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { ClusterInput } from '../clusters.ts';
import type { Compliance, ImageSpec } from '../images.ts';
import type { RegistryInput } from '../registries.ts';
import type { RuntimePolicySpec } from '../runtime-policies.ts';
import type { RuntimeProfileSpec } from '../runtime-profiles.ts';
import type { ScopeInput } from '../scopes.ts';
import type { SignatureValidatorInput } from '../signature-validators.ts';
import { objectColumns, tenantPolicy, timestampColumn } from './common.ts';

export const scopes = pgTable(
  'scopes',
  { ...objectColumns<ScopeInput>(), global: boolean('global').notNull().default(false) },
  (t) => [uniqueIndex('scopes_tenant_name').on(t.tenantId, t.name), tenantPolicy('scopes')],
).enableRLS();

export const clusters = pgTable(
  'clusters',
  objectColumns<ClusterInput>(),
  (t) => [uniqueIndex('clusters_tenant_name').on(t.tenantId, t.name), tenantPolicy('clusters')],
).enableRLS();

export const runtimeProfiles = pgTable(
  'runtime_profiles',
  objectColumns<RuntimeProfileSpec>(),
  (t) => [uniqueIndex('runtime_profiles_tenant_name').on(t.tenantId, t.name), tenantPolicy('runtime_profiles')],
).enableRLS();

export const signatureValidators = pgTable(
  'signature_validators',
  objectColumns<SignatureValidatorInput>(),
  (t) => [uniqueIndex('signature_validators_tenant_name').on(t.tenantId, t.name), tenantPolicy('signature_validators')],
).enableRLS();

export const registries = pgTable(
  'registries',
  objectColumns<RegistryInput>(),
  (t) => [uniqueIndex('registries_tenant_name').on(t.tenantId, t.name), tenantPolicy('registries')],
).enableRLS();

/** Registered images; `name` is `repository@digest`, so one image is registered once. */
export const images = pgTable(
  'images',
  {
    ...objectColumns<ImageSpec>(),
    compliance: text('compliance').$type<Compliance>().notNull(),
    lastScanAt: timestampColumn('last_scan_at'),
  },
  (t) => [uniqueIndex('images_tenant_name').on(t.tenantId, t.name), tenantPolicy('images')],
).enableRLS();

export const runtimePolicies = pgTable(
  'runtime_policies',
  {
    ...objectColumns<RuntimePolicySpec>(),
    enabled: boolean('enabled').notNull(),
    mode: text('mode').$type<'audit' | 'enforce'>().notNull(),
  },
  (t) => [uniqueIndex('runtime_policies_tenant_name').on(t.tenantId, t.name), tenantPolicy('runtime_policies')],
).enableRLS();

/** What each policy references, so a delete can name the policies in its way. */
export const runtimePolicyReferences = pgTable(
  'runtime_policy_references',
  {
    tenantId: objectColumns().tenantId,
    policyId: uuid('policy_id').notNull().references(() => runtimePolicies.id, { onDelete: 'cascade' }),
    targetKind: text('target_kind').$type<'scope' | 'runtimeProfile' | 'signatureValidator'>().notNull(),
    targetId: uuid('target_id').notNull(),
  },
  (t) => [
    index('runtime_policy_references_target').on(t.tenantId, t.targetKind, t.targetId),
    index('runtime_policy_references_policy').on(t.policyId),
    tenantPolicy('runtime_policy_references'),
  ],
).enableRLS();
