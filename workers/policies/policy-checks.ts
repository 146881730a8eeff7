import { and, eq, inArray, sql } from 'drizzle-orm';
import type { FieldError } from '../../schema/problem.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import { scopeCoversWorkloads, type ScopeInput } from '../../schema/scopes.ts';
import { scopes } from '../../schema/tables/index.ts';
import { PalisadeError } from '../http/errors.ts';
import type { WriteContext } from '../objects/object-kind.ts';
import type { ReferenceKind } from './policy-references.ts';

const NOUNS: Record<ReferenceKind, string> = { scope: 'scope', runtimeProfile: 'runtime profile', signatureValidator: 'signature validator', registry: 'registry' };

export interface Reference {
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

/** The referenced objects the tenant holds, per kind (scopes with what decides whether they can hold workloads). */
export interface FoundReferences {
  scope: Array<{ id: string; global: boolean; spec: ScopeInput }>;
  runtimeProfile: string[];
  signatureValidator: string[];
  registry: string[];
}

/**
 * Checks each reference against what was found: 422 with a pointer per reference that does not exist in the tenant
 * or is a scope that cannot hold workloads; 403 when one is the global scope and the caller may not use it.
 */
export function checkReferences(principal: WriteContext['principal'], refs: readonly Reference[], found: FoundReferences): void {
  const scopeById = new Map(found.scope.map((s) => [s.id, s]));
  const others = { runtimeProfile: new Set(found.runtimeProfile), signatureValidator: new Set(found.signatureValidator), registry: new Set(found.registry) };
  const errors: FieldError[] = [];
  let usesGlobal = false;
  for (const ref of refs) {
    if (ref.kind === 'scope') {
      const scope = scopeById.get(ref.id);
      if (!scope) errors.push({ pointer: ref.pointer, detail: `no scope ${ref.id}` });
      else if (!scopeCoversWorkloads({ global: scope.global, resources: scope.spec.resources })) errors.push({ pointer: ref.pointer, detail: 'this scope holds only registry resources; a runtime policy needs clusters or namespaces' });
      else if (scope.global) usesGlobal = true;
    } else if (!others[ref.kind].has(ref.id)) {
      errors.push({ pointer: ref.pointer, detail: `no ${NOUNS[ref.kind]} ${ref.id}` });
    }
  }
  if (errors.length > 0) throw new PalisadeError('unprocessable_references', 'the policy references objects that do not exist or cannot be used', { errors });
  if (usesGlobal) requireGlobalScopeRight(principal);
}

/** Whether any of `scopeIds` is the tenant's global scope, as SQL (to read alone, or inside a statement that does more). */
export const onGlobalScopeSql = (tenantId: string, scopeIds: readonly string[]) =>
  sql<boolean>`exists (select 1 from ${scopes} where ${and(eq(scopes.tenantId, tenantId), eq(scopes.global, true), inArray(scopes.id, [...scopeIds]))})`;

/** KCS: a policy on the global scope may be changed only by someone who may view global scopes. */
export function requireGlobalScopeRight(principal: WriteContext['principal']): void {
  if (!principal.rights.has('scopes.viewGlobal')) {
    throw new PalisadeError('forbidden', 'a runtime policy on the global scope needs the right scopes.viewGlobal', { extensions: { missingRights: ['scopes.viewGlobal'] } });
  }
}
