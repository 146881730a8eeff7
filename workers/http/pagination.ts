import type { FieldError } from '../../schema/problem.ts';
import { PalisadeError } from './errors.ts';

export interface Page {
  limit: number;
  /** Last id of the previous page. */
  after?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const encodeCursor = (id: string) => btoa(JSON.stringify({ after: id })).replaceAll('=', '').replaceAll('+', '-').replaceAll('/', '_');

/** Page size when `limit` is absent, and the largest `limit` accepted. */
export const PAGE_DEFAULTS = { limit: 50, max: 200 };

/** `limit` and `cursor` from a query; `key` says what a valid cursor position looks like (ids by default). */
export function parsePage(query: Record<string, string | undefined>, key: RegExp = UUID, defaults = PAGE_DEFAULTS): Page {
  const errors: FieldError[] = [];
  let limit = defaults.limit;
  if (query.limit !== undefined) {
    limit = Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > defaults.max) errors.push({ parameter: 'limit', detail: `must be an integer from 1 to ${defaults.max}` });
  }
  let after: string | undefined;
  if (query.cursor !== undefined) {
    try {
      const decoded = JSON.parse(atob(query.cursor.replaceAll('-', '+').replaceAll('_', '/'))) as { after?: unknown };
      if (typeof decoded.after !== 'string' || !key.test(decoded.after)) throw new Error('bad cursor');
      after = decoded.after;
    } catch {
      errors.push({ parameter: 'cursor', detail: 'is not a cursor this API returned' });
    }
  }
  if (errors.length > 0) throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors });
  return { limit, after };
}
