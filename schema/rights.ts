import { z } from 'zod';

/** Every right a role can grant. Routes name the right they need; roles are sets of these. */
export const RIGHTS = [
  'runtimePolicies.view',
  'runtimePolicies.manage',
  'runtimeProfiles.view',
  'runtimeProfiles.manage',
  'scopes.view',
  'scopes.manage',
  'scopes.viewGlobal',
  'signatureValidators.view',
  'signatureValidators.manage',
  'images.view',
  'images.manage',
  'registries.view',
  'registries.manage',
  'fileThreatProtection.view',
  'fileThreatProtection.manage',
  'clusters.view',
  'clusters.manage',
  'audit.view',
  'webhooks.view',
  'webhooks.manage',
  'roles.view',
  'roles.manage',
  'apiKeys.view',
  'apiKeys.manage',
  'audit.manage',
] as const;

export const Right = z.enum(RIGHTS);
export type Right = z.infer<typeof Right>;

const viewRights = RIGHTS.filter((r) => r.endsWith('.view') || r === 'scopes.viewGlobal');

/** Built-in roles after Kaspersky Container Security's; seeded into every tenant and immutable. */
export const BUILTIN_ROLES: ReadonlyArray<{ name: string; description: string; rights: readonly Right[] }> = [
  { name: 'administrator', description: 'Full access to every object of the tenant', rights: RIGHTS },
  {
    name: 'information-security-administrator',
    description: 'Manages policies, profiles, scopes, validators, images, registries, clusters and webhooks',
    rights: RIGHTS.filter((r) => !r.startsWith('roles.') && !r.startsWith('apiKeys.')).concat(['roles.view', 'apiKeys.view']),
  },
  { name: 'auditor', description: 'Reads every object and the audit log, changes nothing', rights: viewRights },
  {
    name: 'security-officer',
    description: 'Reads policies and their objects, follows audit events and manages webhooks',
    rights: viewRights.filter((r) => !r.startsWith('roles.') && !r.startsWith('apiKeys.')).concat(['webhooks.manage']),
  },
  {
    name: 'developer',
    description: 'Reads runtime policies, profiles, scopes, images and registries to see why a workload is blocked',
    rights: ['runtimePolicies.view', 'runtimeProfiles.view', 'scopes.view', 'images.view', 'registries.view', 'clusters.view'],
  },
];
