import { and, eq, inArray } from 'drizzle-orm';
import type { FieldError } from '../../schema/problem.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import { scopeCoversWorkloads } from '../../schema/scopes.ts';
import { registries, runtimeProfiles, scopes, signatureValidators } from '../../schema/tables/index.ts';
import { PalisadeError } from '../http/errors.ts';
import type { WriteContext } from '../objects/object-kind.ts';
import type { ReferenceKind } from './policy-references.ts';

const NOUNS: Record<ReferenceKind, string> = { scope: 'scope', runtimeProfile: 'runtime profile', signatureValidator: 'signature validator', registry: 'registry' };

interface Reference {
  kind: ReferenceKind;
  id: string;
  pointer: string;
}

/** Every object a policy document points at, with the JSON Pointer of the member that names it. */
export function referencesOf(spec: RuntimePolicySpec): Reference[] {
  const refs: Reference[] = spec.scopeIds.map((id, i) => ({ kind: 'scope', id, pointer: `/scopeIds/${i}` }));
  spec.containerRuntimeProfiles.mappings.forEach((m, i) =>
    m.profileIds.forEach((id, j) => refs.push({ kind: 'runtimeProfile', id, pointer: `/containerRuntimeProfiles/mappings/${i}/profileIds/${j}` })),
  );
  spec.imageContentProtection.rules.forEach((r, i) => {
    if (r.validatorId !== undefined) refs.push({ kind: 'signatureValidator', id: r.validatorId, pointer: `/imageContentProtection/rules/${i}/validatorId` });
  });
  spec.registriesAllowed.registries.forEach((r, i) => {
    if (typeof r !== 'string') refs.push({ kind: 'registry', id: r.registryId, pointer: `/registriesAllowed/registries/${i}/registryId` });
  });
  return refs;
}

/**
 * Checks that every reference exists in the tenant (locking the rows so they cannot be deleted before commit), that
 * each scope can hold workloads, and that the caller may use the global scope.
 */
export async function checkPolicyReferences({ tx, principal }: WriteContext, spec: RuntimePolicySpec): Promise<Reference[]> {
  const refs = referencesOf(spec);
  const ids = (kind: ReferenceKind) => [...new Set(refs.filter((r) => r.kind === kind).map((r) => r.id))];
  const tenant = principal.tenantId;
  const [scopeRows, profileRows, validatorRows, registryRows] = await Promise.all([
    ids('scope').length ? tx.select({ id: scopes.id, global: scopes.global, spec: scopes.spec }).from(scopes).where(and(eq(scopes.tenantId, tenant), inArray(scopes.id, ids('scope')))).for('share') : [],
    ids('runtimeProfile').length ? tx.select({ id: runtimeProfiles.id }).from(runtimeProfiles).where(and(eq(runtimeProfiles.tenantId, tenant), inArray(runtimeProfiles.id, ids('runtimeProfile')))).for('share') : [],
    ids('signatureValidator').length ? tx.select({ id: signatureValidators.id }).from(signatureValidators).where(and(eq(signatureValidators.tenantId, tenant), inArray(signatureValidators.id, ids('signatureValidator')))).for('share') : [],
    ids('registry').length ? tx.select({ id: registries.id }).from(registries).where(and(eq(registries.tenantId, tenant), inArray(registries.id, ids('registry')))).for('share') : [],
  ]);
  const scopeById = new Map(scopeRows.map((s) => [s.id, s]));
  const found = new Set([...profileRows, ...validatorRows, ...registryRows].map((r) => r.id));
  const errors: FieldError[] = [];
  let usesGlobal = false;
  for (const ref of refs) {
    if (ref.kind === 'scope') {
      const scope = scopeById.get(ref.id);
      if (!scope) errors.push({ pointer: ref.pointer, detail: `no scope ${ref.id}` });
      else if (!scopeCoversWorkloads({ global: scope.global, resources: scope.spec.resources })) errors.push({ pointer: ref.pointer, detail: 'this scope holds only registry resources; a runtime policy needs clusters or namespaces' });
      else if (scope.global) usesGlobal = true;
    } else if (!found.has(ref.id)) {
      errors.push({ pointer: ref.pointer, detail: `no ${NOUNS[ref.kind]} ${ref.id}` });
    }
  }
  if (errors.length > 0) throw new PalisadeError('unprocessable_references', 'the policy references objects that do not exist or cannot be used', { errors });
  if (usesGlobal) requireGlobalScopeRight(principal);
  return refs;
}

/** KCS: a policy on the global scope may be changed only by someone who may view global scopes. */
export function requireGlobalScopeRight(principal: WriteContext['principal']): void {
  if (!principal.rights.has('scopes.viewGlobal')) {
    throw new PalisadeError('forbidden', 'a runtime policy on the global scope needs the right scopes.viewGlobal', { extensions: { missingRights: ['scopes.viewGlobal'] } });
  }
}
