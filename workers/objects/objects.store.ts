import { and, asc, eq, getTableColumns, getTableName, gt, sql, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth/principal.ts';
import type { Tx } from '../db/db.ts';
import { errorTable, isUniqueViolation } from '../db/errors.ts';
import { PalisadeError } from '../http/errors.ts';
import type { Page } from '../http/pagination.ts';
import { uuidv7 } from '../ids.ts';
import type { ObjectKind, ObjectRow } from './object-kind.ts';

export const nameOf = (kind: ObjectKind, spec: unknown) => kind.nameOf?.(spec) ?? (spec as { name: string }).name;

/**
 * Turns a unique violation on the kind's own table (its name) into 409 naming the members the name is made of; one
 * on another table written in the same statement stays what it is.
 */
export function conflictOnDuplicate(kind: ObjectKind, name: string) {
  return (err: unknown): never => {
    const table = errorTable(err);
    if (isUniqueViolation(err) && (table === undefined || table === getTableName(kind.table))) {
      const article = /^[aeiou]/i.test(kind.noun) ? 'an' : 'a';
      const errors = (kind.namePointers ?? ['/name']).map((pointer) => ({ pointer, detail: 'already taken' }));
      throw new PalisadeError('conflict', `${article} ${kind.noun} named "${name}" already exists`, { cause: err, errors });
    }
    throw err;
  };
}

/**
 * Work folded into the statement that writes an object's row (the bundles' stale mark), run once that row is written;
 * `done` tells the caller it ran (it runs per written row: not when no row was written).
 */
export interface Folded {
  sql: SQL<boolean>;
  done: boolean;
}

/** A CTE's columns under the kind's field names, so its rows map exactly as the write's own `returning()` would. */
export function rowColumns(kind: ObjectKind, cte: object): Record<string, SQL> {
  return Object.fromEntries(Object.keys(getTableColumns(kind.table)).map((key) => [key, (cte as Record<string, SQL>)[key]!]));
}

/**
 * Runs a write that returns the object's row (insert or update ... returning), with `folded` in the same statement:
 * `with written as (<write>) select written.*, <folded> from written`. One round trip instead of two.
 */
async function writeReturning(tx: Tx, kind: ObjectKind, write: PromiseLike<unknown>, folded: Folded | undefined): Promise<ObjectRow[]> {
  if (!folded) return (await write) as ObjectRow[];
  const written = tx.$with('written').as(write as never);
  const rows = (await tx.with(written).select({ ...rowColumns(kind, written), palisadeFolded: folded.sql }).from(written)) as Array<ObjectRow & { palisadeFolded?: boolean }>;
  if (rows.length > 0) folded.done = true;
  return rows.map(({ palisadeFolded: _, ...row }) => row as ObjectRow);
}

/**
 * One page of a tenant's objects, in id order. `extras`, when given, is computed in the same statement from the CTE
 * holding the page and returned once (on its first row, not repeated on each).
 */
export async function listObjects(
  tx: Tx,
  tenantId: string,
  kind: ObjectKind,
  page: Page,
  conditions: SQL[],
  extras?: (rows: object) => SQL,
): Promise<{ rows: ObjectRow[]; more: boolean; extras?: unknown }> {
  const t = kind.table;
  const where = and(eq(t.tenantId, tenantId), ...conditions, page.after ? gt(t.id, page.after) : undefined);
  const select = kind.listColumns ? tx.select(kind.listColumns() as never) : tx.select();
  const query = select.from(t).where(where).orderBy(asc(t.id)).limit(page.limit + 1);
  const { rows, extras: value } = extras ? await withExtras(tx, kind, query, extras, kind.listColumns ? Object.keys(kind.listColumns()) : undefined) : { rows: (await query) as ObjectRow[], extras: undefined };
  return { rows: rows.slice(0, page.limit), more: rows.length > page.limit, extras: value };
}

/** Rows of `query` (a select of the kind's table) and `extras` of them, in one statement. */
async function withExtras(tx: Tx, kind: ObjectKind, query: PromiseLike<unknown>, extras: (rows: object) => SQL, keys?: string[]) {
  const cte = tx.$with('page').as(query as never) as unknown as Record<string, SQL> & object;
  const columns = keys ? Object.fromEntries(keys.map((k) => [k, cte[k]!])) : rowColumns(kind, cte);
  const id = cte.id!;
  const rows = (await tx
    .with(cte as never)
    .select({ ...columns, palisadeExtras: sql`case when row_number() over (order by ${id}) = 1 then ${extras(cte)} end` })
    .from(cte as never)
    .orderBy(asc(id))) as Array<ObjectRow & { palisadeExtras?: unknown }>;
  return { rows: rows.map(({ palisadeExtras: _, ...row }) => row as ObjectRow), extras: rows[0]?.palisadeExtras };
}

const byId = (tx: Tx, tenantId: string, kind: ObjectKind, id: string) => tx.select().from(kind.table).where(and(eq(kind.table.tenantId, tenantId), eq(kind.table.id, id)));

/** Reads one object; `lock` locks it so that concurrent writers and reference checks serialize. */
export async function getObject(tx: Tx, tenantId: string, kind: ObjectKind, id: string, lock?: 'update' | 'share'): Promise<ObjectRow | undefined> {
  const query = byId(tx, tenantId, kind, id);
  const rows = (await (lock === 'update' ? query.for('update') : lock === 'share' ? query.for('share') : query)) as ObjectRow[];
  return rows[0];
}

/** Reads one object and, when the kind has them, its `extras` computed from it in the same statement (`value`). */
export async function readObject(tx: Tx, tenantId: string, kind: ObjectKind, id: string, extras?: (rows: object) => SQL): Promise<{ row?: ObjectRow; value?: unknown }> {
  if (!extras) return { row: await getObject(tx, tenantId, kind, id) };
  const { rows, extras: value } = await withExtras(tx, kind, byId(tx, tenantId, kind, id), extras);
  return { row: rows[0], value };
}

/** The insert of a new object's row, returning it, not yet run (to run alone, or inside a statement that does more). */
export function objectInsert(tx: Tx, kind: ObjectKind, spec: unknown, principal: Principal, extraColumns: Record<string, unknown> = {}) {
  const values = {
    tenantId: principal.tenantId,
    id: uuidv7(),
    name: nameOf(kind, spec),
    spec,
    createdBy: principal.subject,
    updatedBy: principal.subject,
    ...kind.columns?.(spec),
    ...extraColumns,
  };
  return tx.insert(kind.table).values(values as never).returning();
}

/** The update of an object's row to `spec` (its version one up), returning it, not yet run. */
export function objectUpdate(tx: Tx, kind: ObjectKind, previous: ObjectRow, spec: unknown, principal: Principal) {
  const values = {
    name: nameOf(kind, spec),
    spec,
    version: previous.version + 1,
    updatedAt: sql`now()`,
    updatedBy: principal.subject,
    ...kind.columns?.(spec),
  };
  return tx
    .update(kind.table)
    .set(values as never)
    .where(and(eq(kind.table.tenantId, previous.tenantId), eq(kind.table.id, previous.id)))
    .returning();
}

export async function insertObject(tx: Tx, kind: ObjectKind, spec: unknown, principal: Principal, extraColumns: Record<string, unknown> = {}, folded?: Folded): Promise<ObjectRow> {
  const rows = await writeReturning(tx, kind, objectInsert(tx, kind, spec, principal, extraColumns), folded).catch(conflictOnDuplicate(kind, nameOf(kind, spec)));
  return rows[0]!;
}

export async function updateObject(tx: Tx, kind: ObjectKind, previous: ObjectRow, spec: unknown, principal: Principal, folded?: Folded): Promise<ObjectRow> {
  const rows = await writeReturning(tx, kind, objectUpdate(tx, kind, previous, spec, principal), folded).catch(conflictOnDuplicate(kind, nameOf(kind, spec)));
  return rows[0]!;
}

export async function deleteObject(tx: Tx, row: ObjectRow, kind: ObjectKind, folded?: Folded): Promise<void> {
  const remove = tx.delete(kind.table).where(and(eq(kind.table.tenantId, row.tenantId), eq(kind.table.id, row.id)));
  if (!folded) {
    await remove;
    return;
  }
  const deleted = tx.$with('deleted').as(remove.returning({ id: kind.table.id }));
  const rows = await tx.with(deleted).select({ folded: folded.sql }).from(deleted);
  if (rows.length > 0) folded.done = true;
}
