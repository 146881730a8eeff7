import { BUNDLE_API_VERSION, type BundleContentV1, type BundlePolicy } from '../../schema/bundle.ts';
import { canonicalJson } from '../../schema/canonical-json.ts';
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

type PolicyRow = BundleSources['policies'][number];
type ProfileRow = BundleSources['runtimeProfiles'][number];
type ValidatorRow = BundleSources['signatureValidators'][number];
type ImageRow = BundleSources['images'][number];
type BundleImage = BundleContentV1['images'][number];

/** The content, and for each element of its object lists the source row it was made from (same order). */
interface Compiled {
  content: BundleContentV1;
  from: { policies: PolicyRow[]; runtimeProfiles: ProfileRow[]; signatureValidators: ValidatorRow[]; images: ImageRow[] };
}

function compileImage(i: ImageRow): BundleImage {
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
}

function compile(src: BundleSources): Compiled {
  const scopeById = new Map(src.scopes.map((s) => [s.id, s]));
  const registryById = new Map(src.registries.map((r) => [r.id, r.spec.url]));
  const policies: BundlePolicy[] = [];
  const policyRows: PolicyRow[] = [];
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
    policyRows.push(p);
  }
  const profileIds = new Set(policies.flatMap((p) => (p.containerRuntimeProfiles.enabled ? p.containerRuntimeProfiles.mappings.flatMap((m) => m.profileIds) : [])));
  const validatorIds = new Set(policies.flatMap((p) => (p.imageContentProtection.enabled ? p.imageContentProtection.rules.flatMap((r) => r.validatorId ?? []) : [])));
  const runtimeProfiles = src.runtimeProfiles.filter((p) => profileIds.has(p.id)).sort(byId);
  const signatureValidators = src.signatureValidators.filter((v) => validatorIds.has(v.id)).sort(byId);
  const needsInventory = policies.some((p) => p.blockNonCompliantImages.enabled || p.blockUnregisteredImages.enabled);
  const needsFtp = policies.some((p) => p.fileThreatProtection.enabled) || runtimeProfiles.some((p) => p.spec.fileThreatProtection.enabled);
  const images = needsInventory ? src.images.map((row) => ({ row, image: compileImage(row) })).sort((a, b) => (a.image.reference + a.image.digest < b.image.reference + b.image.digest ? -1 : 1)) : [];
  return {
    content: {
      apiVersion: BUNDLE_API_VERSION,
      tenantId: src.tenantId,
      cluster: { id: src.cluster.id, name: src.cluster.spec.name, labels: src.cluster.spec.labels },
      policies,
      runtimeProfiles: runtimeProfiles.map((p) => ({ ...p.spec, id: p.id })),
      signatureValidators: signatureValidators.map((v) => ({ ...v.spec, id: v.id })),
      images: images.map((i) => i.image),
      registries: [...src.registries].sort(byId).map((r) => ({ id: r.id, name: r.spec.name, url: r.spec.url })),
      fileThreatProtection: needsFtp ? src.fileThreatProtection : null,
      ...(needsFtp && src.fileSignatures ? { fileSignatures: src.fileSignatures } : {}),
    },
    from: { policies: policyRows, runtimeProfiles, signatureValidators, images: images.map((i) => i.row) },
  };
}

/**
 * The bundle for one cluster: every enabled policy whose scopes reach the cluster and what those policies reference.
 * Pure and deterministic: arrays are sorted by id, so the same sources give the same canonical bytes.
 */
export function compileBundle(src: BundleSources): BundleContentV1 {
  return compile(src).content;
}

/**
 * Canonical JSON of list elements already rendered, by source row (object identity). A row object stands for one
 * version of one row (workers/bundles/source-cache.ts hands out the same object while the row is unchanged and a new
 * one when it changes), so a fragment is reused only for the very row it was made from. Weak: a fragment lives as
 * long as its row is held, so the bound on cached rows bounds this too; nothing here is keyed by tenant or cluster
 * because nothing cluster-specific goes into a fragment (a policy's element depends on its row, the scopes it names and
 * the registries it references, and the last two are part of the fragment's key).
 */
export class FragmentMemo {
  readonly policies = new WeakMap<PolicyRow, { deps: string; json: string }>();
  readonly rows = new WeakMap<ProfileRow | ValidatorRow | ImageRow, string>();
  hits = 0;
  misses = 0;
}

/**
 * The string as one flat sequence. `canonicalJson` builds with `+=`, which leaves a rope (a tree of pieces) that every
 * later copy walks again; a fragment kept for many builds is flattened once. `| 0` makes the engine read it as a number,
 * which flattens it in place (the result is discarded).
 */
function flat(s: string): string {
  void ((s as unknown as number) | 0);
  return s;
}

/**
 * `canonicalJson(compileBundle(src))`, with the canonical JSON of each policy, runtime profile, signature validator and
 * image taken from `memo` when its source row was rendered before. The top-level object is written the way
 * `canonicalJson` writes any object (keys sorted, undefined members dropped), its lists element by element, so the
 * bytes are the same (test/bundles/incremental-refresh.test.ts compares them across edits, inserts and deletes).
 */
export function renderBundle(src: BundleSources, memo: FragmentMemo): string {
  const { content, from } = compile(src);
  const scopeJson = new Map<string, string>();
  const policy = (p: BundlePolicy, i: number): string => {
    const row = from.policies[i]!;
    // What of the element is not the row's own: the scopes it names (as they are now) and its resolved registries.
    let deps = JSON.stringify(p.registriesAllowed.registries);
    for (const s of p.scopes) {
      let json = scopeJson.get(s.id);
      if (json === undefined) scopeJson.set(s.id, (json = canonicalJson(s)));
      deps += json;
    }
    const hit = memo.policies.get(row);
    if (hit && hit.deps === deps) {
      memo.hits++;
      return hit.json;
    }
    memo.misses++;
    const json = flat(canonicalJson(p));
    memo.policies.set(row, { deps, json });
    return json;
  };
  const byRow =
    <K extends 'runtimeProfiles' | 'signatureValidators' | 'images'>(key: K) =>
    (element: BundleContentV1[K][number], i: number): string => {
      const row = from[key][i]!;
      const hit = memo.rows.get(row);
      if (hit !== undefined) {
        memo.hits++;
        return hit;
      }
      memo.misses++;
      const json = flat(canonicalJson(element));
      memo.rows.set(row, json);
      return json;
    };
  const lists: Partial<Record<keyof BundleContentV1, (element: never, i: number) => string>> = {
    policies: policy as never,
    runtimeProfiles: byRow('runtimeProfiles') as never,
    signatureValidators: byRow('signatureValidators') as never,
    images: byRow('images') as never,
  };
  const record = content as unknown as Record<string, unknown>;
  // Pieces joined once at the end: a string grown by `+=` from thousands of fragments is a deep rope that every later
  // reader (SHA-256, base64url) must flatten first.
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const value = record[key];
    if (value === undefined) continue;
    const element = lists[key as keyof BundleContentV1];
    if (element) {
      const items = value as never[];
      const parts = new Array<string>(items.length);
      for (let i = 0; i < items.length; i++) parts[i] = element(items[i]!, i);
      members.push(`${JSON.stringify(key)}:[${parts.join(',')}]`);
    } else members.push(`${JSON.stringify(key)}:${canonicalJson(value)}`);
  }
  return `{${members.join(',')}}`;
}
