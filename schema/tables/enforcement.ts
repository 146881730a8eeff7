import { index, jsonb, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';
import type { AgentComponent, EnforceableSection } from '../enforcement.ts';
import { tenantId, tenantPolicy, timestampColumn } from './common.ts';
import { clusters } from './objects.ts';

/**
 * What each running agent instance last said it enforces (`enforcement` of its status report), one row per cluster,
 * component and instance: a cluster has several admission replicas and one node agent per node, and what the cluster
 * enforces is derived from the live ones (see workers/agents/enforcement.store.ts).
 */
export const agentEnforcement = pgTable(
  'agent_enforcement',
  {
    tenantId: tenantId(),
    clusterId: uuid('cluster_id').notNull().references(() => clusters.id, { onDelete: 'cascade' }),
    component: text('component').$type<AgentComponent>().notNull(),
    instance: text('instance').notNull(),
    sections: jsonb('sections').$type<EnforceableSection[]>().notNull(),
    detectOnly: jsonb('detect_only').$type<EnforceableSection[]>().notNull(),
    reportedAt: timestampColumn('reported_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.clusterId, t.component, t.instance] }), index('agent_enforcement_tenant').on(t.tenantId), tenantPolicy('agent_enforcement')],
).enableRLS();
