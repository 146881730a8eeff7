import { and, eq } from 'drizzle-orm';
import { runtimePolicies, runtimePolicyReferences } from '../../schema/tables/index.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectRow, WriteContext } from '../objects/object-kind.ts';

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
