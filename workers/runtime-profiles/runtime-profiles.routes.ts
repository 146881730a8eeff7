import type { Hono } from 'hono';
import { RuntimeProfile, RuntimeProfileInput } from '../../schema/runtime-profiles.ts';
import { runtimeProfiles } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { refuseIfReferenced } from '../policies/policy-references.ts';

export const runtimeProfileKind: ObjectKind<typeof RuntimeProfileInput> = {
  noun: 'runtime profile',
  path: '/v1/runtime-profiles',
  table: runtimeProfiles,
  input: RuntimeProfileInput,
  output: RuntimeProfile,
  feedsBundles: true,
  rights: { view: 'runtimeProfiles.view', manage: 'runtimeProfiles.manage' },
  filters: { name: nameFilter(runtimeProfiles) },
  beforeDelete: (ctx, row) => refuseIfReferenced(ctx, 'runtimeProfile', row),
};

export const registerRuntimeProfileRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, runtimeProfileKind);
