import type { Hono } from 'hono';
import { Registry, RegistryInput } from '../../schema/registries.ts';
import { registries } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter, specContains } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';

export const registryKind: ObjectKind<typeof RegistryInput> = {
  noun: 'registry',
  path: '/v1/registries',
  table: registries,
  input: RegistryInput,
  output: Registry,
  feedsBundles: true,
  rights: { view: 'registries.view', manage: 'registries.manage' },
  filters: { name: nameFilter(registries), url: (url) => specContains(registries, { url }) },
};

export const registerRegistryRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, registryKind);
