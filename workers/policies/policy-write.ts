import { and, eq, inArray, sql } from 'drizzle-orm';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import { registries, runtimePolicyReferences, runtimePolicyRevisions, runtimeProfiles, scopes, signatureValidators } from '../../schema/tables/index.ts';
import { clusterReportsSql, mayHaveGaps, policyGaps, type ClusterReports, type NotEnforcedIn } from '../agents/policy-gaps.ts';
import { uuidv7 } from '../ids.ts';
import type { ObjectKind, ObjectRow, WriteContext } from '../objects/object-kind.ts';
import { conflictOnDuplicate, nameOf, objectInsert, objectUpdate, rowColumns, type Folded } from '../objects/objects.store.ts';
import { checkReferences, onGlobalScopeSql, referencesOf, requireGlobalScopeRight, type FoundReferences } from './policy-checks.ts';
import type { ReferenceKind } from './policy-references.ts';
import { revisionInsert } from './revisions.store.ts';

type PolicyRow = ObjectRow<RuntimePolicySpec>;

/** Tables of the references that are checked for existence only (scopes are read whole). */
const TARGETS = { runtimeProfile: runtimeProfiles, signatureValidator: signatureValidators, registry: registries } as const;

/**
 * Creates (`previous` absent) or updates a runtime policy in ONE statement of CTEs, which
 * - reads the objects it references and locks them FOR SHARE: a concurrent delete of one waits for this transaction,
 *   and one deleted meanwhile is not returned;
 * - (update) tells whether the policy was on the global scope;
 * - writes the policy's row, its reference rows (an update's old ones deleted: the CTEs share one snapshot, so the
 *   delete never sees the rows the insert adds) and its revision;
 * - reads the tenant's clusters with what their live agents report, for `notEnforcedIn`;
 * - and last, once every write and lock above has completed and every reference was found, takes the bundles' stale
 *   mark (`stale`, see compileLock).
 * The checks run on what it returns; a failing one throws and the transaction rolls all of it back. Checking after
 * the write is what makes a create one round trip instead of five, at the price of an undone insert on a refusal,
 * and of one order between refusals: a name already taken answers 409 even when references are wrong too (the
 * insert fails before anything is returned to check).
 */
export async function writeRuntimePolicy(
  ctx: WriteContext,
  kind: ObjectKind,
  spec: RuntimePolicySpec,
  previous: PolicyRow | undefined,
  stale: Folded | undefined,
  now: Date,
): Promise<{ row: PolicyRow; extra: { enforcement: { notEnforcedIn: NotEnforcedIn[] } } }> {
  const { tx, principal } = ctx;
  const tenant = principal.tenantId;
  const refs = referencesOf(spec);
  const idsOf = (k: ReferenceKind) => [...new Set(refs.filter((r) => r.kind === k).map((r) => r.id))];
  const id = previous?.id ?? uuidv7();

  const written = tx.$with('written').as((previous ? objectUpdate(tx, kind, previous, spec, principal) : objectInsert(tx, kind, spec, principal, { id })) as never);
  const foundScopes = tx
    .$with('found_scope')
    .as(tx.select({ id: scopes.id, global: scopes.global, spec: scopes.spec }).from(scopes).where(and(eq(scopes.tenantId, tenant), inArray(scopes.id, idsOf('scope')))).for('share'));
  const foundOthers = (Object.keys(TARGETS) as Array<keyof typeof TARGETS>).map((k) => {
    const t = TARGETS[k];
    return [k, tx.$with(`found_${k}`).as(tx.select({ id: t.id }).from(t).where(and(eq(t.tenantId, tenant), inArray(t.id, idsOf(k)))).for('share'))] as const;
  });

  const r = runtimePolicyReferences;
  const unique = [...new Map(refs.map((x) => [`${x.kind}:${x.id}`, x])).values()];
  const writes = [
    previous && tx.$with('refs_deleted').as(tx.delete(r).where(and(eq(r.tenantId, tenant), eq(r.policyId, id))).returning({ policyId: r.policyId }) as never),
    unique.length > 0 && tx.$with('refs_inserted').as(tx.insert(r).values(unique.map((x) => ({ tenantId: tenant, policyId: id, targetKind: x.kind, targetId: x.id }))).returning({ policyId: r.policyId }) as never),
    tx.$with('revision').as(
      revisionInsert(tx, {
        tenantId: tenant,
        policyId: id,
        revision: previous ? previous.version + 1 : 1,
        action: previous ? 'update' : 'create',
        document: spec,
        previous: previous?.spec,
        by: principal.subject,
      }).returning({ policyId: runtimePolicyRevisions.policyId }) as never,
    ),
  ].filter((w) => w !== undefined && w !== false);

  const found = sql<FoundReferences>`json_build_object('scope', (select coalesce(json_agg(${foundScopes}), '[]'::json) from ${foundScopes}), ${sql.join(
    foundOthers.map(([k, w]) => sql`${k}::text, (select coalesce(json_agg(${w}.id), '[]'::json) from ${w})`),
    sql`, `,
  )})`;
  const previousGlobal = previous ? onGlobalScopeSql(tenant, previous.spec.scopeIds) : sql<boolean>`false`;
  const clusters = mayHaveGaps(spec) ? clusterReportsSql(tenant, sql`select global, spec from ${foundScopes}`, now) : sql<ClusterReports[]>`'[]'::json`;
  // Reading each write and lock to its end (count) before the mark orders them first, as compileLock asks. A reference
  // not found skips the mark: the request is about to be refused, and must not wait for a compile to say so.
  const settled = sql.join(
    [
      ...writes.map((w) => sql`(select count(*) from ${w}) >= 0`),
      sql`(select count(*) from ${foundScopes}) = ${idsOf('scope').length}`,
      ...foundOthers.map(([k, w]) => sql`(select count(*) from ${w}) = ${idsOf(k).length}`),
    ],
    sql` and `,
  );
  const marked = stale ? sql<boolean | null>`case when ${settled} then ${stale.sql} end` : sql<null>`null`;

  const select = tx
    .with(written, foundScopes, ...foundOthers.map(([, w]) => w), ...writes)
    .select({ ...rowColumns(kind, written), palisadeFound: found, palisadePreviousGlobal: previousGlobal, palisadeClusters: clusters, palisadeMarked: marked })
    .from(written);
  const [result] = await select.catch(conflictOnDuplicate(kind, nameOf(kind, spec)));
  if (!result) throw new Error(`runtime policy ${id} was not written`);
  const { palisadeFound, palisadePreviousGlobal, palisadeClusters, palisadeMarked, ...row } = result as unknown as PolicyRow & {
    palisadeFound: FoundReferences;
    palisadePreviousGlobal: boolean;
    palisadeClusters: ClusterReports[];
    palisadeMarked: boolean | null;
  };
  // Skipped only when a reference is missing, which the check below refuses; should it ever accept such a write,
  // the mark is still taken (the generic write path runs it on its own when `done` is false).
  if (stale && palisadeMarked !== null) stale.done = true;
  if (palisadePreviousGlobal) requireGlobalScopeRight(principal);
  checkReferences(principal, refs, palisadeFound);
  const notEnforcedIn = policyGaps([{ id, spec }], palisadeFound.scope, palisadeClusters).get(id) ?? [];
  return { row: row as PolicyRow, extra: { enforcement: { notEnforcedIn } } };
}
