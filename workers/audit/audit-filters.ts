import { and, eq, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { AUDIT_EVENT_KINDS, AuditVerdict, SEVERITY_RANK, Severity } from '../../schema/audit-event.ts';
import { Timestamp } from '../../schema/common.ts';
import type { FieldError } from '../../schema/problem.ts';
import { PalisadeError } from '../http/errors.ts';
import { UUID_PATTERN } from '../objects/filters.ts';

/** Filters shared by the event list and the summary; each one narrows, all must hold. */
export interface AuditFilters {
  /** Inclusive start and exclusive end, ms. */
  from?: number;
  to?: number;
  clusterId?: string;
  namespace?: string;
  policyId?: string;
  check?: string;
  verdicts?: string[];
  severities?: string[];
  kinds?: string[];
  image?: string;
}

export const FILTER_PARAMETERS = ['from', 'to', 'clusterId', 'namespace', 'policyId', 'check', 'verdict', 'severity', 'minSeverity', 'kind', 'image'] as const;

/** Postgres timestamps start at year 1 (year 0 and BC dates in ISO form are refused). */
export const EARLIEST_TIME = Date.parse('0001-01-01T00:00:00Z');
/** The last instant of year 9999: later ones have no four-digit ISO form. */
export const LATEST_TIME = Date.parse('9999-12-31T23:59:59.999Z');

const list = (value: string) => value.split(',').map((v) => v.trim());

/**
 * Reads the filters from a query; `others` are the route's own parameters. Every unknown or invalid parameter is
 * reported at once, as a 400 problem with one entry per parameter.
 */
export function parseAuditFilters(query: Record<string, string>, others: readonly string[]): AuditFilters {
  const errors: FieldError[] = [];
  const bad = (parameter: string, detail: string) => void errors.push({ parameter, detail });
  const filters: AuditFilters = {};
  for (const [parameter, value] of Object.entries(query)) {
    if (others.includes(parameter)) continue;
    if (!(FILTER_PARAMETERS as readonly string[]).includes(parameter)) bad(parameter, `not a parameter; use ${[...FILTER_PARAMETERS, ...others].join(', ')}`);
    else if (value === '') bad(parameter, 'must not be empty');
    else if (value.includes('\u0000')) bad(parameter, 'must not hold NUL characters');
  }
  const text = (p: 'namespace' | 'check' | 'image') => (query[p] && !errors.some((e) => e.parameter === p) ? query[p] : undefined);
  for (const p of ['from', 'to'] as const) {
    if (!query[p]) continue;
    if (!Timestamp.safeParse(query[p]).success) bad(p, 'must be an RFC 3339 time with an offset, e.g. 2026-05-01T00:00:00Z');
    else if (!(Date.parse(query[p]) >= EARLIEST_TIME)) bad(p, 'must not be before 0001-01-01T00:00:00Z');
    else filters[p] = Date.parse(query[p]);
  }
  if (filters.from !== undefined && filters.to !== undefined && filters.from >= filters.to) bad('to', 'must be after from');
  for (const [p, key] of [['clusterId', 'clusterId'], ['policyId', 'policyId']] as const) {
    if (!query[p]) continue;
    if (UUID_PATTERN.test(query[p])) filters[key] = query[p];
    else bad(p, 'must be an id (UUID)');
  }
  filters.namespace = text('namespace');
  filters.check = text('check');
  filters.image = text('image');
  const oneOf = (p: string, allowed: readonly string[]) => {
    if (!query[p]) return undefined;
    const values = list(query[p]);
    const wrong = values.filter((v) => !allowed.includes(v));
    if (wrong.length > 0) bad(p, `must be one or more (comma-separated) of ${allowed.join(', ')}`);
    return values;
  };
  filters.verdicts = oneOf('verdict', AuditVerdict.options);
  filters.kinds = oneOf('kind', AUDIT_EVENT_KINDS);
  filters.severities = oneOf('severity', Severity.options);
  const min = oneOf('minSeverity', Severity.options);
  if (min && min.length !== 1) bad('minSeverity', 'must be one severity');
  else if (min) {
    const atLeast = Severity.options.filter((s) => SEVERITY_RANK[s] >= SEVERITY_RANK[min[0] as Severity]);
    filters.severities = filters.severities ? filters.severities.filter((s) => (atLeast as string[]).includes(s)) : atLeast;
  }
  if (errors.length > 0) throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors });
  return filters;
}

/** The columns a filter applies to; `check` differs between raw events (an array) and rollups (one id a row). */
export interface FilterColumns {
  time: PgColumn;
  clusterId: PgColumn;
  namespace: PgColumn;
  policyId: PgColumn;
  check: (check: string) => SQL;
  /** How `policyId` matches, when not by equality of the column. */
  policyMatch?: (policyId: string) => SQL;
  verdict: PgColumn;
  severity: PgColumn;
  kind: PgColumn;
  image: PgColumn;
}

export function filterConditions(f: AuditFilters, c: FilterColumns): SQL | undefined {
  const iso = (ms: number) => new Date(ms).toISOString();
  return and(
    f.from !== undefined ? gte(c.time, iso(f.from)) : undefined,
    f.to !== undefined ? lt(c.time, iso(f.to)) : undefined,
    f.clusterId ? eq(c.clusterId, f.clusterId) : undefined,
    f.namespace ? eq(c.namespace, f.namespace) : undefined,
    f.policyId ? (c.policyMatch ? c.policyMatch(f.policyId.toLowerCase()) : eq(c.policyId, f.policyId)) : undefined,
    f.check ? c.check(f.check) : undefined,
    f.verdicts ? inArray(c.verdict, f.verdicts) : undefined,
    f.severities ? (f.severities.length ? inArray(c.severity, f.severities) : sql`false`) : undefined,
    f.kinds ? inArray(c.kind, f.kinds) : undefined,
    f.image ? eq(c.image, f.image) : undefined,
  );
}
