import type { Hono } from 'hono';
import { Cluster, ClusterInput } from '../../schema/clusters.ts';
import { clusters } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { nameFilter, specContains } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';

/** `label=key=value`: clusters carrying that label. */
function labelFilter(value: string) {
  const [key, ...rest] = value.split('=');
  if (!key || rest.length === 0) throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: 'label', detail: 'must be key=value' }] });
  return specContains(clusters, { labels: { [key]: rest.join('=') } });
}

export const clusterKind: ObjectKind<typeof ClusterInput> = {
  noun: 'cluster',
  path: '/v1/clusters',
  table: clusters,
  input: ClusterInput,
  output: Cluster,
  feedsBundles: true,
  rights: { view: 'clusters.view', manage: 'clusters.manage' },
  filters: { name: nameFilter(clusters), label: labelFilter },
};

export const registerClusterRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, clusterKind);
