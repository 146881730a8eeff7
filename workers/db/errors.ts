/** Postgres SQLSTATE of an error from any of our drivers; drizzle wraps the driver's error in `cause`. */
export function sqlState(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export const isUniqueViolation = (err: unknown) => sqlState(err) === '23505';

/** The table a database error names (drivers report it for constraint violations), if any. */
export function errorTable(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const table = (e as { table?: unknown }).table;
    if (typeof table === 'string' && table !== '') return table;
  }
  return undefined;
}

interface DriverError {
  code?: unknown;
  message?: unknown;
  constraint?: unknown;
  table?: unknown;
  column?: unknown;
  severity?: unknown;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;
/** Values Postgres quotes into messages (`invalid input syntax for type uuid: "…"`, `Key (x)=(…)`); identifiers stay. */
const redactValues = (message: string) => message.replace(/(:\s*)"[^"]*"\s*$/, '$1"…"').replace(/=\([^)]*\)/g, '=(…)');

/**
 * One log line for any error, safe to write: for database errors the SQLSTATE, the driver's message with quoted values
 * cut, and constraint, table and column, but never the query's parameters (drizzle's `DrizzleQueryError` message lists
 * them, secrets included) nor the error's `detail` (it repeats key values). Other errors keep message and stack.
 */
export function loggableError(err: unknown): string {
  const chain: unknown[] = [];
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) chain.push(e);
  const db = chain.find((e): e is DriverError => typeof (e as DriverError).code === 'string' && SQLSTATE.test((e as DriverError).code as string));
  const fromDrizzle = chain.some((e) => (e as { params?: unknown }).params !== undefined || (e as Error).message?.startsWith?.('Failed query:'));
  if (!db && !fromDrizzle) return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err);
  const where = err instanceof Error ? (err.stack ?? '').split('\n').filter((l) => /^\s+at /.test(l)).slice(0, 8).join('\n') : '';
  if (!db) return `database error (no SQLSTATE; parameters withheld)\n${where}`;
  const parts = [`database error ${db.code as string}`, typeof db.message === 'string' ? redactValues(db.message) : undefined];
  for (const key of ['constraint', 'table', 'column'] as const) if (typeof db[key] === 'string') parts.push(`${key} ${db[key] as string}`);
  return `${parts.filter(Boolean).join('; ')}\n${where}`;
}
