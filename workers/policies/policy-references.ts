import { and, eq, sql, type SQLWrapper } from 'drizzle-orm';
import { runtimePolicies, runtimePolicyReferences, runtimePolicyRevisions } from '../../schema/tables/index.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectRow, WriteContext } from '../objects/object-kind.ts';
import type { Folded } from '../objects/objects.store.ts';
import { revisionInsert, type RevisionEntry } from './revisions.store.ts';

export type ReferenceKind = 'scope' | 'runtimeProfile' | 'signatureValidator' | 'registry';

const NOUN: Record<ReferenceKind, string> = { scope: 'scope', runtimeProfile: 'runtime profile', signatureValidator: 'signature validator', registry: 'registry' };

/** 409 naming every policy that still uses the object. The object row is locked, so no policy can start using it meanwhile. */
export async function refuseIfReferenced({ tx, principal }: WriteContext, kind: ReferenceKind, row: ObjectRow): Promise<void> {
  const users = await tx
    .selectDistinct({ id: runtimePolicies.id, name: runtimePolicies.name })
    .from(runtimePolicyReferences)
    .innerJoin(runtimePolicies, eq(runtimePolicies.id, runtimePolicyReferences.policyId))
    .where(
      and(
        eq(runtimePolicyReferences.tenantId, principal.tenantId),
        eq(runtimePolicyReferences.targetKind, kind),
        eq(runtimePolicyReferences.targetId, row.id),
      ),
    );
  if (users.length > 0) {
    throw new PalisadeError('in_use', `${NOUN[kind]} "${row.name}" is used by ${users.length} runtime ${users.length === 1 ? 'policy' : 'policies'}: ${users.map((u) => u.name).join(', ')}`, {
      extensions: { policies: users },
    });
  }
}

/**
 * Replaces the reference rows of one policy (`replace`: an update; a new policy has none to delete) and records its
 * revision, in ONE statement of data-modifying CTEs, with `folded` (the bundles' stale mark) last in it.
 * The CTEs share one snapshot, so the delete removes exactly the rows from before this statement, never those it
 * inserts (the table has no unique key for them to collide on). `folded` is evaluated only once every CTE has run to
 * completion (the select reads an aggregate of each), so the mark, and the compile lock it takes, come after these
 * writes, as compileLock asks. Row locks these writes take are on the policy's own row, already held by this
 * transaction (the foreign key), so none of them waits.
 */
export async function storeReferencesAndRevision(
  ctx: WriteContext,
  policyId: string,
  refs: Array<{ kind: ReferenceKind; id: string }>,
  replace: boolean,
  revision: RevisionEntry,
  folded: Folded | undefined,
): Promise<void> {
  const { tx, principal } = ctx;
  const t = runtimePolicyReferences;
  const unique = [...new Map(refs.map((r) => [`${r.kind}:${r.id}`, r])).values()];
  const ctes: Array<[name: string, write: SQLWrapper]> = [];
  if (replace) ctes.push(['refs_deleted', tx.delete(t).where(and(eq(t.tenantId, principal.tenantId), eq(t.policyId, policyId))).returning({ policyId: t.policyId })]);
  if (unique.length > 0) {
    ctes.push(['refs_inserted', tx.insert(t).values(unique.map((r) => ({ tenantId: principal.tenantId, policyId, targetKind: r.kind, targetId: r.id }))).returning({ policyId: t.policyId })]);
  }
  ctes.push(['revision', revisionInsert(tx, revision).returning({ policyId: runtimePolicyRevisions.policyId })]);
  const withs = sql.join(ctes.map(([name, write]) => sql`${sql.identifier(name)} as ${write}`), sql`, `);
  const counts = sql.join(ctes.map(([name]) => sql`(select count(*) from ${sql.identifier(name)}) as ${sql.identifier(`${name}_count`)}`), sql`, `);
  await tx.execute(sql`with ${withs} select ${folded ? folded.sql : sql`true`} as done from ${counts}`);
  if (folded) folded.done = true;
}
