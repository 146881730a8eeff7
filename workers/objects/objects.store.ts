import { and, asc, eq, getTableColumns, gt, sql, type SQL } from 'drizzle-orm';
import type { Principal } from '../auth/principal.ts';
import type { Tx } from '../db/db.ts';
import { isUniqueViolation } from '../db/errors.ts';
import { PalisadeError } from '../http/errors.ts';
import type { Page } from '../http/pagination.ts';
import { uuidv7 } from '../ids.ts';
import type { ObjectKind, ObjectRow } from './object-kind.ts';

const nameOf = (kind: ObjectKind, spec: unknown) => kind.nameOf?.(spec) ?? (spec as { name: string }).name;

function conflictOnDuplicate(kind: ObjectKind, name: string) {
  return (err: unknown): never => {
    if (isUniqueViolation(err)) {
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

/**
 * Runs a write that returns the object's row (insert or update ... returning), with `folded` in the same statement:
 * `with written as (<write>) select written.*, <folded> from written`. One round trip instead of two.
 */
async function writeReturning(tx: Tx, kind: ObjectKind, write: PromiseLike<unknown>, folded: Folded | undefined): Promise<ObjectRow[]> {
  if (!folded) return (await write) as ObjectRow[];
  const written = tx.$with('written').as(write as never);
  // The CTE's columns under the table's field names, so rows map exactly as the write's own `returning()` would.
  const columns = Object.fromEntries(Object.keys(getTableColumns(kind.table)).map((key) => [key, (written as unknown as Record<string, unknown>)[key]]));
  const rows = (await tx.with(written).select({ ...(columns as Record<string, SQL>), palisadeFolded: folded.sql }).from(written)) as Array<ObjectRow & { palisadeFolded?: boolean }>;
  if (rows.length > 0) folded.done = true;
  return rows.map(({ palisadeFolded: _, ...row }) => row as ObjectRow);
}

export async function listObjects(tx: Tx, tenantId: string, kind: ObjectKind, page: Page, conditions: SQL[]): Promise<{ rows: ObjectRow[]; more: boolean }> {
  const t = kind.table;
  const where = and(eq(t.tenantId, tenantId), ...conditions, page.after ? gt(t.id, page.after) : undefined);
  const select = kind.listColumns ? tx.select(kind.listColumns() as never) : tx.select();
  const rows = (await select.from(t).where(where).orderBy(asc(t.id)).limit(page.limit + 1)) as ObjectRow[];
  return { rows: rows.slice(0, page.limit), more: rows.length > page.limit };
}

/** Reads one object; `forUpdate` locks it so that concurrent writers and reference checks serialize. */
export async function getObject(tx: Tx, tenantId: string, kind: ObjectKind, id: string, lock?: 'update' | 'share'): Promise<ObjectRow | undefined> {
  const query = tx.select().from(kind.table).where(and(eq(kind.table.tenantId, tenantId), eq(kind.table.id, id)));
  const rows = (await (lock === 'update' ? query.for('update') : lock === 'share' ? query.for('share') : query)) as ObjectRow[];
  return rows[0];
}

export async function insertObject(tx: Tx, kind: ObjectKind, spec: unknown, principal: Principal, extraColumns: Record<string, unknown> = {}, folded?: Folded): Promise<ObjectRow> {
  const name = nameOf(kind, spec);
  const values = {
    tenantId: principal.tenantId,
    id: uuidv7(),
    name,
    spec,
    createdBy: principal.subject,
    updatedBy: principal.subject,
    ...kind.columns?.(spec),
    ...extraColumns,
  };
  const rows = await writeReturning(tx, kind, tx.insert(kind.table).values(values as never).returning(), folded).catch(conflictOnDuplicate(kind, name));
  return rows[0]!;
}

export async function updateObject(tx: Tx, kind: ObjectKind, previous: ObjectRow, spec: unknown, principal: Principal, folded?: Folded): Promise<ObjectRow> {
  const name = nameOf(kind, spec);
  const values = {
    name,
    spec,
    version: previous.version + 1,
    updatedAt: sql`now()`,
    updatedBy: principal.subject,
    ...kind.columns?.(spec),
  };
  const update = tx
    .update(kind.table)
    .set(values as never)
    .where(and(eq(kind.table.tenantId, previous.tenantId), eq(kind.table.id, previous.id)))
    .returning();
  const rows = await writeReturning(tx, kind, update, folded).catch(conflictOnDuplicate(kind, name));
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
