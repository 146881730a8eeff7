import { BUNDLE_API_VERSION, type BundleContentV1, type BundlePolicy } from '../../schema/bundle.ts';
import type { ClusterInput } from '../../schema/clusters.ts';
import type { BundleFileSignatures } from '../../schema/file-signature-sets.ts';
import type { FileThreatProtectionSettings } from '../../schema/file-threat-protection.ts';
import type { ComplianceReason } from '../../schema/assurance-policies.ts';
import type { ImageSpec } from '../../schema/images.ts';
import { summarize } from '../assurance/decide.ts';
import { matchesMask } from '../../schema/masks.ts';
import type { RegistryInput } from '../../schema/registries.ts';
import type { RuntimePolicySpec } from '../../schema/runtime-policies.ts';
import type { RuntimeProfileSpec } from '../../schema/runtime-profiles.ts';
import type { ScopeInput } from '../../schema/scopes.ts';
import type { SignatureValidatorInput } from '../../schema/signature-validators.ts';

interface Row<S> {
  id: string;
  spec: S;
}

/** Everything of a tenant a bundle may draw on, as stored. */
export interface BundleSources {
  tenantId: string;
  cluster: Row<ClusterInput>;
  policies: Array<Row<RuntimePolicySpec> & { version: number }>;
  scopes: Array<Row<ScopeInput> & { global: boolean }>;
  runtimeProfiles: Array<Row<RuntimeProfileSpec>>;
  signatureValidators: Array<Row<SignatureValidatorInput>>;
  images: Array<Row<ImageSpec> & { complianceReasons?: ComplianceReason[]; compliantUntil?: string | null }>;
  registries: Array<Row<RegistryInput>>;
  fileThreatProtection: FileThreatProtectionSettings;
  /** The tenant's effective signature set; named only in bundles that turn File Threat Protection on. */
  fileSignatures?: BundleFileSignatures;
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Whether a scope reaches a cluster: the global scope always, otherwise a cluster or namespace resource whose cluster mask matches. */
export function scopeCoversCluster(scope: { global: boolean; spec: ScopeInput }, clusterName: string): boolean {
  return scope.global || scope.spec.resources.some((r) => r.type !== 'registry' && matchesMask(r.cluster, clusterName));
}

/**
 * Allowed registries as prefixes: references to `/v1/registries` become the registry's prefix. One that no longer
 * resolves (deleting a referenced registry is refused, so only a race could cause it) allows nothing: fail closed.
 */
function allowedPrefixes(allowed: ReadonlyArray<string | { registryId: string }>, registryById: ReadonlyMap<string, string>): string[] {
  return [...new Set(allowed.flatMap((r) => (typeof r === 'string' ? [r] : (registryById.get(r.registryId) ?? []))))];
}

/**
 * The bundle for one cluster: every enabled policy whose scopes reach the cluster and what those policies reference.
 * Pure and deterministic: arrays are sorted by id, so the same sources give the same canonical bytes.
 */
export function compileBundle(src: BundleSources): BundleContentV1 {
  const scopeById = new Map(src.scopes.map((s) => [s.id, s]));
  const registryById = new Map(src.registries.map((r) => [r.id, r.spec.url]));
  const policies: BundlePolicy[] = [];
  for (const p of [...src.policies].sort(byId)) {
    if (!p.spec.enabled) continue;
    const scopes = p.spec.scopeIds.flatMap((id) => scopeById.get(id) ?? []).filter((s) => s.spec.resources.some((r) => r.type !== 'registry') || s.global);
    if (!scopes.some((s) => scopeCoversCluster(s, src.cluster.spec.name))) continue;
    const { scopeIds: _scopeIds, ...spec } = p.spec;
    policies.push({
      ...spec,
      registriesAllowed: { ...spec.registriesAllowed, registries: allowedPrefixes(spec.registriesAllowed.registries, registryById) },
      id: p.id,
      revision: p.version,
      scopes: scopes.sort(byId).map((s) => ({ id: s.id, name: s.spec.name, global: s.global, resources: s.spec.resources })),
    });
  }
  const profileIds = new Set(policies.flatMap((p) => (p.containerRuntimeProfiles.enabled ? p.containerRuntimeProfiles.mappings.flatMap((m) => m.profileIds) : [])));
  const validatorIds = new Set(policies.flatMap((p) => (p.imageContentProtection.enabled ? p.imageContentProtection.rules.flatMap((r) => r.validatorId ?? []) : [])));
  const runtimeProfiles = src.runtimeProfiles.filter((p) => profileIds.has(p.id)).sort(byId);
  const needsInventory = policies.some((p) => p.blockNonCompliantImages.enabled || p.blockUnregisteredImages.enabled);
  const needsFtp = policies.some((p) => p.fileThreatProtection.enabled) || runtimeProfiles.some((p) => p.spec.fileThreatProtection.enabled);
  return {
    apiVersion: BUNDLE_API_VERSION,
    tenantId: src.tenantId,
    cluster: { id: src.cluster.id, name: src.cluster.spec.name, labels: src.cluster.spec.labels },
    policies,
    runtimeProfiles: runtimeProfiles.map((p) => ({ ...p.spec, id: p.id })),
    signatureValidators: src.signatureValidators.filter((v) => validatorIds.has(v.id)).sort(byId).map((v) => ({ ...v.spec, id: v.id })),
    images: needsInventory
      ? src.images
          .map((i) => {
            const why = summarize(i.complianceReasons ?? []);
            return {
              reference: i.spec.reference,
              digest: i.spec.digest,
              tags: [...i.spec.tags].sort(),
              compliance: i.spec.compliance,
              lastScanAt: i.spec.lastScanAt,
              ...(i.compliantUntil ? { compliantUntil: new Date(i.compliantUntil).toISOString() } : {}),
              ...(why ? { why } : {}),
            };
          })
          .sort((a, b) => (a.reference + a.digest < b.reference + b.digest ? -1 : 1))
      : [],
    registries: [...src.registries].sort(byId).map((r) => ({ id: r.id, name: r.spec.name, url: r.spec.url })),
    fileThreatProtection: needsFtp ? src.fileThreatProtection : null,
    ...(needsFtp && src.fileSignatures ? { fileSignatures: src.fileSignatures } : {}),
  };
}
