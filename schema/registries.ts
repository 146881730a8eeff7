import { z } from 'zod';
import { Description, Metadata, Name, Timestamp } from './common.ts';
import { REPOSITORY_NAME } from './oci.ts';
import { RegistryPrefix } from './scopes.ts';

/** Username and password (or token) for the registry; write-only: stored encrypted, never returned. */
export const RegistryCredentials = z.strictObject({ username: z.string().min(1).max(256), password: z.string().min(1).max(8192) });

export const RegistrySync = z.strictObject({
  enabled: z.boolean().default(false),
  /** Minutes between syncs. */
  intervalMinutes: z.int().min(5).max(10080).default(60),
  /** Repositories to list (paths below the registry host); without them the catalog (`/v2/_catalog`) is read. */
  repositories: z.array(z.string().max(255).regex(REPOSITORY_NAME, 'must be a repository path such as acme/web')).max(1000).optional(),
  /** At most this many repositories per sync (the rest wait; the status says so). */
  maxRepositories: z.int().min(1).max(1000).default(100),
  /** At most this many tags per repository per sync. */
  maxTagsPerRepository: z.int().min(1).max(1000).default(100),
});

export const RegistryInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    /** Registry host with optional port and repository path prefix, e.g. `ghcr.io/acme`. */
    url: RegistryPrefix,
    type: z.enum(['dockerHub', 'harbor', 'gitlab', 'quay', 'jfrog', 'nexus', 'ecr', 'gcr', 'acr', 'generic']).default('generic'),
    /** Write-only. Absent keeps the stored credentials; `null` removes them. */
    credentials: RegistryCredentials.nullable().optional(),
    sync: RegistrySync.optional(),
  })
  .meta({ id: 'RegistryInput' });
export type RegistryInput = z.input<typeof RegistryInput>;
/** What is stored in `spec` (credentials go to their own encrypted column). */
export type RegistrySpec = Omit<z.output<typeof RegistryInput>, 'credentials'>;

export const RegistrySyncStatus = z.object({
  state: z.enum(['ok', 'partial', 'failed']),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  repositories: z.int(),
  tags: z.int(),
  imagesRegistered: z.int(),
  tagsRemoved: z.int(),
  /** What went wrong, per repository where it is one ("" for the registry itself); at most 20. */
  errors: z.array(z.object({ repository: z.string(), message: z.string() })),
  /** Limits that cut the sync short. */
  truncated: z.array(z.string()),
});
export type RegistrySyncStatus = z.infer<typeof RegistrySyncStatus>;

export const Registry = RegistryInput.omit({ credentials: true })
  .extend({ ...Metadata.shape, credentialsSet: z.boolean(), syncStatus: RegistrySyncStatus.optional(), nextSyncAt: Timestamp.optional() })
  .meta({ id: 'Registry' });
export type Registry = z.output<typeof Registry>;
