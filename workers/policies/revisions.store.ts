import { and, asc, eq, gt } from 'drizzle-orm';
import { canonicalJson } from '../../schema/canonical-json.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import { runtimePolicyRevisions } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { jsonPointer } from '../http/body.ts';
import type { Page } from '../http/pagination.ts';

/** JSON Pointers of the leaves that differ between two documents (arrays compare whole, member order aside). */
export function changedPaths(before: unknown, after: unknown, path: string[] = []): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => changedPaths(before[k], after[k], [...path, k]));
  }
  // Canonical JSON: a document read back from jsonb has its keys in another order than the one sent.
  const same = before === undefined || after === undefined ? before === after : canonicalJson(before) === canonicalJson(after);
  return same ? [] : [jsonPointer(path) || ''];
}

export interface RevisionEntry {
  tenantId: string;
  policyId: string;
  revision: number;
  action: 'create' | 'update' | 'delete';
  document: RuntimePolicySpec;
  previous?: RuntimePolicySpec;
  by: string;
}

/** The insert of one revision, not yet run (to run alone, or inside a statement that writes more). */
export function revisionInsert(tx: Tx, entry: RevisionEntry) {
  return tx.insert(runtimePolicyRevisions).values({
    tenantId: entry.tenantId,
    policyId: entry.policyId,
    revision: entry.revision,
    action: entry.action,
    document: entry.document,
    changes: entry.action === 'update' ? changedPaths(entry.previous, entry.document) : [],
    changedBy: entry.by,
  });
}

export async function recordRevision(tx: Tx, entry: RevisionEntry): Promise<void> {
  await revisionInsert(tx, entry);
}

export async function listRevisions(tx: Tx, tenantId: string, policyId: string, page: Page & { afterRevision?: number }) {
  const t = runtimePolicyRevisions;
  const rows = await tx
    .select()
    .from(t)
    .where(and(eq(t.tenantId, tenantId), eq(t.policyId, policyId), page.afterRevision ? gt(t.revision, page.afterRevision) : undefined))
    .orderBy(asc(t.revision))
    .limit(page.limit + 1);
  return { rows: rows.slice(0, page.limit), more: rows.length > page.limit };
}
