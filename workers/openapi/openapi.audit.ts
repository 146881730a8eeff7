import { z } from 'zod';
import { AUDIT_EVENT_KINDS, AuditEventV1, AuditVerdict, Severity } from '../../schema/audit-event.ts';
import { listOf } from '../../schema/common.ts';
import { IngestedAuditEvent } from '../audit/audit-event.validate.ts';
import { INGEST_PATH } from '../audit/audit-ingest.routes.ts';
import { EVENTS_PATH, SUMMARY_LIMITS, SUMMARY_PATH } from '../audit/audit-query.routes.ts';
import { AUDIT_SETTINGS_PATH, AuditSettings, AuditSettingsInput } from '../audit/audit-settings.routes.ts';
import { SUMMARY_DIMENSIONS } from '../audit/audit-summary.store.ts';
import { AUDIT_DEFAULTS } from '../audit/audit.types.ts';
import { AGENT_TAG } from './openapi.agents.ts';
import { PAGINATION, type Operations, type Paths } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

export const AUDIT_TAG = 'Audit';

const AuditEventRecord = AuditEventV1.extend({ clusterId: z.uuid(), receivedAt: z.string() }).meta({ id: 'AuditEventRecord', description: 'A stored audit event: the agent\'s event, the cluster its credential named and when it arrived' });
const Rejected = z.object({ index: z.int(), reason: z.string(), errors: z.array(z.object({ pointer: z.string().optional(), detail: z.string() })).optional() });
const IngestResult = z.object({ accepted: z.int(), duplicates: z.int(), rejected: z.array(Rejected) }).meta({ id: 'AuditIngestResult' });

const query = (name: string, description: string, schema: JsonSchema = { type: 'string' }): JsonSchema => ({ name, in: 'query', required: false, description, schema });
const oneOrMore = (values: readonly string[]) => ({ type: 'string', description: `Comma-separated, any of: ${values.join(', ')}` });
const FILTERS: JsonSchema[] = [
  query('from', 'Events at or after this time (RFC 3339)', { type: 'string', format: 'date-time' }),
  query('to', 'Events before this time (RFC 3339)', { type: 'string', format: 'date-time' }),
  query('clusterId', 'Events of this cluster', { type: 'string', format: 'uuid' }),
  query('namespace', "Events about workloads in this namespace"),
  query('policyId', 'Events of this runtime policy', { type: 'string', format: 'uuid' }),
  query('check', 'Events holding this check id, e.g. `registriesAllowed`'),
  query('verdict', 'Events with one of these verdicts', oneOrMore(AuditVerdict.options)),
  query('severity', 'Events with one of these severities', oneOrMore(Severity.options)),
  query('minSeverity', 'Events at least this severe', { type: 'string', enum: Severity.options }),
  query('kind', 'Events of these kinds', oneOrMore(AUDIT_EVENT_KINDS)),
  query('image', 'Events about this image, exactly as the workload names it'),
];
const count = { type: 'integer', minimum: 0 };
const SUMMARY: JsonSchema = {
  type: 'object',
  properties: {
    bucket: { enum: ['hour', 'day'] },
    from: { type: 'string', format: 'date-time', description: 'Start of the first bucket' },
    to: { type: 'string', format: 'date-time', description: 'End of the last bucket' },
    groupBy: { type: 'array', items: { type: 'string' } },
    total: { ...count, description: 'All counts in the range, also of groups beyond `limit`' },
    groupCount: { ...count, description: 'How many groups there are, also beyond `limit`' },
    groups: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'object', description: 'The value of each groupBy dimension; null for none (e.g. an event without a policy)', additionalProperties: { type: ['string', 'null'] } },
          buckets: { type: 'array', items: { type: 'object', properties: { start: { type: 'string', format: 'date-time' }, count }, required: ['start', 'count'] }, description: 'Only buckets with a count' },
          total: count,
        },
        required: ['key', 'buckets', 'total'],
      },
    },
    topWorkloads: { type: 'array', items: { type: 'object', properties: { workload: { type: 'string', description: '`namespace/Kind/name`' }, count }, required: ['workload', 'count'] } },
  },
  required: ['bucket', 'from', 'to', 'groupBy', 'total', 'groupCount', 'groups', 'topWorkloads'],
};

/** Audit events: the agent's ingest route, the tenant's queries and the retention setting. */
export function auditPaths(ops: Operations): Paths {
  const ingest = ops.operation({
    tag: AGENT_TAG,
    operationId: 'ingestAuditEvents',
    summary: 'Report a batch of audit events',
    description: [
      'A JSON array (`application/json`) or one event a line (`application/x-ndjson`), plain or `Content-Encoding: gzip`. Tenant and cluster come from the credential; an event that names them is rejected as having unknown fields.',
      'Each event is validated on its own: the valid ones are stored, the others listed in `rejected` by their 0-based index (array element, or non-blank NDJSON line). The answer comes once the events are durable. Storing is idempotent on the event id: a retried batch counts its events as `duplicates`.',
      `Limits: ${AUDIT_DEFAULTS.maxBatchBytes} bytes after decompression and ${AUDIT_DEFAULTS.maxBatchEvents} events a batch (413); a per-cluster rate of ${AUDIT_DEFAULTS.rateLimit.eventsPerSecond} events a second with bursts to ${AUDIT_DEFAULTS.rateLimit.burst}, per server process (429 with \`Retry-After\`). These are the defaults; the operator may change them.`,
    ].join('\n\n'),
    security: 'agentCredential',
    body: { schema: z.array(IngestedAuditEvent), mediaTypes: ['application/json', 'application/x-ndjson'] },
    responses: { 202: ops.json('Stored: how many events were new, how many were known already, and which were rejected and why', IngestResult) },
    problems: {
      400: 'The body is not JSON (or not gzip, or not UTF-8)',
      413: 'The batch holds too many bytes (after decompression) or events',
      415: 'Not JSON or NDJSON, or an encoding other than gzip',
      422: 'The body is not an array, or none of its events is valid; `rejected` lists them as in a 202 answer',
      429: 'The cluster sends events faster than its rate; retry after `Retry-After` seconds',
    },
  });
  const body = (ingest.requestBody as { content: Record<string, JsonSchema> }).content;
  body['application/x-ndjson'] = { schema: { type: 'string', description: 'One AuditEventV1Input a line' } };

  return {
    [INGEST_PATH]: { post: ingest },
    [EVENTS_PATH]: {
      get: ops.operation({
        tag: AUDIT_TAG,
        operationId: 'listAuditEvents',
        summary: 'List audit events, newest first',
        description: 'Raw events, kept for the tenant\'s retention period (`/v1/settings/audit`). Filters combine; list filters take comma-separated values.',
        right: 'audit.view',
        parameters: [...FILTERS, ...PAGINATION],
        responses: { 200: ops.json('A page of events; `nextCursor` is present while more follow', listOf(AuditEventRecord)) },
        problems: { 400: 'An unknown or invalid query parameter' },
      }),
    },
    [SUMMARY_PATH]: {
      get: ops.operation({
        tag: AUDIT_TAG,
        operationId: 'summarizeAuditEvents',
        summary: 'Count audit events in hour or day buckets, grouped',
        description:
          'Read from rollups kept at ingest, so it covers periods whose raw events retention has deleted. Buckets are UTC hours or days: `from` is rounded down and `to` up to a bucket boundary (default: the last 24 hours or 30 days). Counts are events; grouped or filtered by `check`, an event counts once under each of its checks. `topWorkloads` ranks workloads by events that were not `allowed` (or by the `verdict` filter).',
        right: 'audit.view',
        parameters: [
          query('groupBy', 'Dimensions to group by, comma-separated (none: one group)', oneOrMore(Object.keys(SUMMARY_DIMENSIONS))),
          query('bucket', 'Bucket size', { type: 'string', enum: ['hour', 'day'], default: 'hour' }),
          ...FILTERS,
          query('limit', 'Most groups answered, the largest first', { type: 'integer', minimum: 1, maximum: SUMMARY_LIMITS.groups.max, default: SUMMARY_LIMITS.groups.default }),
          query('top', 'Most workloads in `topWorkloads`', { type: 'integer', minimum: 0, maximum: SUMMARY_LIMITS.top.max, default: SUMMARY_LIMITS.top.default }),
        ],
        responses: { 200: ops.json('Counts per group and bucket, and the top offending workloads', SUMMARY) },
        problems: { 400: 'An unknown or invalid query parameter, or a range of too many buckets' },
      }),
    },
    [AUDIT_SETTINGS_PATH]: {
      get: ops.operation({ tag: 'Settings', operationId: 'getAuditSettings', summary: 'Get the audit retention', right: 'audit.view', responses: { 200: ops.json('The settings; 90 days until changed', AuditSettings) } }),
      put: ops.operation({
        tag: 'Settings',
        operationId: 'replaceAuditSettings',
        summary: 'Set how long raw audit events are kept',
        description: 'A job deletes raw events older than this every hour; the rollups behind `/v1/audit/summary` are kept.',
        right: 'audit.manage',
        body: { schema: AuditSettingsInput },
        responses: { 200: ops.json('The settings as saved', AuditSettings) },
      }),
    },
  };
}
