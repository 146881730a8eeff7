import type { Hono } from 'hono';
import type { FieldError } from '../../schema/problem.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { encodeCursor, parsePage } from '../http/pagination.ts';
import { EARLIEST_TIME, LATEST_TIME, parseAuditFilters } from './audit-filters.ts';
import { CURSOR_KEY, cursorKey, listEvents, parseCursorKey } from './audit-query.store.ts';
import { GRANULARITY_MS, type Granularity } from './audit-rollup.ts';
import { summarize, SUMMARY_DIMENSIONS, type SummaryDimension } from './audit-summary.store.ts';

export const EVENTS_PATH = '/v1/audit/events';
export const SUMMARY_PATH = '/v1/audit/summary';

/** Summary limits: the default span and the most buckets one answer may hold, per bucket size. */
export const SUMMARY_SPAN: Record<Granularity, { defaultBuckets: number; maxBuckets: number }> = { hour: { defaultBuckets: 24, maxBuckets: 24 * 31 }, day: { defaultBuckets: 30, maxBuckets: 400 } };
export const SUMMARY_LIMITS = { groups: { default: 100, max: 1000 }, top: { default: 10, max: 100 } };

function integer(query: Record<string, string>, name: string, min: number, max: number, fallback: number, errors: FieldError[]): number {
  if (query[name] === undefined) return fallback;
  const n = Number(query[name]);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  errors.push({ parameter: name, detail: `must be an integer from ${min} to ${max}` });
  return fallback;
}

export function registerAuditQueryRoutes(app: Hono<AppEnv>, now: () => Date): void {
  app.get(EVENTS_PATH, requireRight('audit.view'), async (c) => {
    const query = c.req.query();
    const filters = parseAuditFilters(query, ['limit', 'cursor']);
    const page = parsePage(query, CURSOR_KEY);
    const { tenantId } = c.get('principal');
    const after = page.after ? parseCursorKey(page.after) : undefined;
    // The pattern admits dates that do not exist (month 13) or that Postgres cannot hold (year 0): refuse those too.
    if (after && !(Date.parse(after.time) >= EARLIEST_TIME && new Date(after.time).toISOString() === after.time)) {
      throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: 'cursor', detail: 'is not a cursor this API returned' }] });
    }
    const { items, more } = await inTenant(c.get('db'), tenantId, (tx) => listEvents(tx, tenantId, filters, { limit: page.limit, after }));
    const last = items.at(-1);
    return c.json({ items, ...(more && last ? { nextCursor: encodeCursor(cursorKey(last)) } : {}) });
  });

  app.get(SUMMARY_PATH, requireRight('audit.view'), async (c) => {
    const query = c.req.query();
    const filters = parseAuditFilters(query, ['groupBy', 'bucket', 'limit', 'top']);
    const errors: FieldError[] = [];
    const granularity = (query.bucket ?? 'hour') as Granularity;
    if (granularity !== 'hour' && granularity !== 'day') errors.push({ parameter: 'bucket', detail: 'must be hour or day' });
    const groupBy = query.groupBy ? query.groupBy.split(',').map((d) => d.trim()) : [];
    const unknown = groupBy.filter((d) => !(d in SUMMARY_DIMENSIONS));
    if (unknown.length > 0 || new Set(groupBy).size !== groupBy.length) errors.push({ parameter: 'groupBy', detail: `must be distinct, comma-separated names of ${Object.keys(SUMMARY_DIMENSIONS).join(', ')}` });
    const limit = integer(query, 'limit', 1, SUMMARY_LIMITS.groups.max, SUMMARY_LIMITS.groups.default, errors);
    const top = integer(query, 'top', 0, SUMMARY_LIMITS.top.max, SUMMARY_LIMITS.top.default, errors);
    if (errors.length > 0) throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors });

    // Buckets are whole UTC hours or days: `from` is rounded down and `to` up to a bucket boundary.
    const size = GRANULARITY_MS[granularity];
    const span = SUMMARY_SPAN[granularity];
    const to = Math.ceil((filters.to ?? now().getTime()) / size) * size;
    const from = Math.floor((filters.from ?? to - span.defaultBuckets * size) / size) * size;
    // Rounding to whole buckets (and the default span) must not leave the years Postgres reads in ISO form.
    if (from < EARLIEST_TIME || to > LATEST_TIME) {
      throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: filters.from !== undefined && from < EARLIEST_TIME ? 'from' : 'to', detail: 'the range, in whole buckets, must lie within the years 0001 to 9999' }] });
    }
    if ((to - from) / size > span.maxBuckets) {
      throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: 'from', detail: `the range may span at most ${span.maxBuckets} ${granularity} buckets` }] });
    }
    const { tenantId } = c.get('principal');
    const summary = await inTenant(c.get('db'), tenantId, (tx) => summarize(tx, tenantId, { granularity, from, to, groupBy: groupBy as SummaryDimension[], filters, limit, top }));
    return c.json({ bucket: granularity, from: new Date(from).toISOString(), to: new Date(to).toISOString(), groupBy, ...summary });
  });
}
