import { z } from 'zod';
import { Description, Metadata, Name } from './common.ts';

const ClusterMask = z.string().min(1).max(253).regex(/^[a-z0-9*]([-a-z0-9.*]*[a-z0-9*])?$/, 'must be a cluster name, `*` masks allowed');
const NamespaceMask = z.string().min(1).max(63).regex(/^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/, 'must be a namespace name, `*` masks allowed');
/** A registry host with optional port, optionally followed by a repository path prefix. */
export const RegistryPrefix = z
  .string()
  .min(1)
  .max(512)
  .regex(/^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, 'must be a registry host, optionally with :port and a /repository/path prefix');

export const ScopeResource = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('cluster'), cluster: ClusterMask }),
  z.strictObject({ type: z.literal('namespace'), cluster: ClusterMask, namespace: NamespaceMask }),
  z.strictObject({ type: z.literal('registry'), registry: RegistryPrefix }),
]);
export type ScopeResource = z.infer<typeof ScopeResource>;

export const ScopeInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    resources: z.array(ScopeResource).min(1).max(500),
  })
  .meta({ id: 'ScopeInput' });
export type ScopeInput = z.infer<typeof ScopeInput>;

export const Scope = ScopeInput.extend({ ...Metadata.shape, global: z.boolean() }).meta({ id: 'Scope' });
export type Scope = z.infer<typeof Scope>;

/** Whether a scope can serve a runtime policy: it must name at least one cluster or namespace. */
export function scopeCoversWorkloads(scope: { global?: boolean; resources: ScopeResource[] }): boolean {
  return scope.global === true || scope.resources.some((r) => r.type !== 'registry');
}
