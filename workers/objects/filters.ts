import { eq, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectTable } from './object-kind.ts';

const badParameter = (parameter: string, detail: string) => new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter, detail }] });

/** `name=prod` matches exactly; `name=prod-*` is a mask where `*` matches any run of characters. */
export const nameFilter = (table: ObjectTable) => (value: string): SQL => {
  if (!value.includes('*')) return eq(table.name, value);
  const pattern = value.replace(/[\\%_]/g, (ch) => '\\' + ch).replaceAll('*', '%');
  return sql`${table.name} like ${pattern}`;
};

export const booleanFilter = (parameter: string, column: PgColumn) => (value: string): SQL => {
  if (value !== 'true' && value !== 'false') throw badParameter(parameter, 'must be true or false');
  return eq(column, value === 'true');
};

export const enumFilter = (parameter: string, column: PgColumn, values: readonly string[]) => (value: string): SQL => {
  if (!values.includes(value)) throw badParameter(parameter, `must be one of ${values.join(', ')}`);
  return eq(column, value);
};

/** Matches objects whose document holds `fragment` (jsonb containment). */
export const specContains = (table: ObjectTable, fragment: unknown): SQL => sql`${table.spec} @> ${JSON.stringify(fragment)}::jsonb`;

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const uuidParameter = (parameter: string, value: string) => {
  if (!UUID_PATTERN.test(value)) throw badParameter(parameter, 'must be an id (UUID)');
  return value;
};
