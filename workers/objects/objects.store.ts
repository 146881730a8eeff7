import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
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

export async function insertObject(tx: Tx, kind: ObjectKind, spec: unknown, principal: Principal, extraColumns: Record<string, unknown> = {}): Promise<ObjectRow> {
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
  const rows = (await tx.insert(kind.table).values(values as never).returning().catch(conflictOnDuplicate(kind, name))) as ObjectRow[];
  return rows[0]!;
}

export async function updateObject(tx: Tx, kind: ObjectKind, previous: ObjectRow, spec: unknown, principal: Principal): Promise<ObjectRow> {
  const name = nameOf(kind, spec);
  const values = {
    name,
    spec,
    version: previous.version + 1,
    updatedAt: sql`now()`,
    updatedBy: principal.subject,
    ...kind.columns?.(spec),
  };
  const rows = (await tx
    .update(kind.table)
    .set(values as never)
    .where(and(eq(kind.table.tenantId, previous.tenantId), eq(kind.table.id, previous.id)))
    .returning()
    .catch(conflictOnDuplicate(kind, name))) as ObjectRow[];
  return rows[0]!;
}

export async function deleteObject(tx: Tx, row: ObjectRow, kind: ObjectKind): Promise<void> {
  await tx.delete(kind.table).where(and(eq(kind.table.tenantId, row.tenantId), eq(kind.table.id, row.id)));
}
