import type { Hono } from 'hono';
import { Registry, RegistryInput } from '../../schema/registries.ts';
import { and, eq } from 'drizzle-orm';
import { images, registries } from '../../schema/tables/index.ts';
import { PalisadeError } from '../http/errors.ts';
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
  beforeDelete: async ({ tx, principal }, row) => {
    const users = await tx
      .select({ id: images.id, name: images.name })
      .from(images)
      .where(and(eq(images.tenantId, principal.tenantId), specContains(images as never, { registryId: row.id })))
      .limit(20);
    if (users.length > 0) {
      throw new PalisadeError('in_use', `registry "${row.name}" holds registered images: ${users.map((u) => u.name).join(', ')}`, { extensions: { images: users } });
    }
  },
};

export const registerRegistryRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, registryKind);
