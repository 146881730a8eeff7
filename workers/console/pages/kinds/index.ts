import type { ResourcePage } from '../resource-kind.ts';
import { apiKeys, roles } from './access.kind.tsx';
import { clusters } from './clusters.kind.tsx';
import { images } from './images.kind.tsx';
import { registries } from './registries.kind.tsx';
import { runtimeProfiles } from './runtime-profiles.kind.tsx';
import { scopes } from './scopes.kind.tsx';
import { validators } from './signature-validators.kind.tsx';
import { webhooks } from './webhooks.kind.tsx';

/** The resource pages served by the generic list/form/delete routes (resources.pages.tsx), one file per domain. */
export const RESOURCE_PAGES: ResourcePage[] = [scopes, runtimeProfiles, clusters, apiKeys, validators, images, registries, roles, webhooks];
