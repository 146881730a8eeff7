import { z } from 'zod';
import { Description, Id, Metadata, Name, Timestamp } from './common.ts';
import { Right } from './rights.ts';

export const RoleInput = z
  .strictObject({ name: Name, description: Description.optional(), rights: z.array(Right).min(1) })
  .meta({ id: 'RoleInput' });
export type RoleInput = z.infer<typeof RoleInput>;
export const Role = RoleInput.extend({ ...Metadata.shape, builtin: z.boolean() }).meta({ id: 'Role' });
export type Role = z.infer<typeof Role>;

export const ApiKeyInput = z
  .strictObject({ name: Name, roleIds: z.array(Id).min(1).max(50), expiresAt: Timestamp.optional() })
  .meta({ id: 'ApiKeyInput' });
export type ApiKeyInput = z.infer<typeof ApiKeyInput>;
export const ApiKey = ApiKeyInput.extend({
  ...Metadata.shape,
  lastUsedAt: Timestamp.nullable(),
  revokedAt: Timestamp.nullable(),
}).meta({ id: 'ApiKey' });
export type ApiKey = z.infer<typeof ApiKey>;
export const ApiKeyCreated = z.object({ apiKey: ApiKey, secret: z.string().meta({ description: 'Shown once' }) }).meta({ id: 'ApiKeyCreated' });

export const TenantInput = z.strictObject({ name: z.string().min(1).max(63).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label') }).meta({ id: 'TenantInput' });
export const Tenant = z.object({ id: Id, name: z.string() });
export const TenantCreated = z.object({ tenant: Tenant, apiKey: z.string() }).meta({ id: 'TenantCreated' });
