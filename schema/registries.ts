import { z } from 'zod';
import { Description, Metadata, Name } from './common.ts';
import { RegistryPrefix } from './scopes.ts';

export const RegistryInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    /** Registry host with optional port and repository path prefix, e.g. `ghcr.io/acme`. */
    url: RegistryPrefix,
    type: z.enum(['dockerHub', 'harbor', 'gitlab', 'quay', 'jfrog', 'nexus', 'ecr', 'gcr', 'acr', 'generic']).default('generic'),
  })
  .meta({ id: 'RegistryInput' });
export type RegistryInput = z.input<typeof RegistryInput>;

export const Registry = RegistryInput.extend(Metadata.shape).meta({ id: 'Registry' });
export type Registry = z.output<typeof Registry>;
