import { z } from 'zod';
import { Labels } from './common.ts';
import { BundleFileSignatures } from './file-signature-sets.ts';
import { FileThreatProtectionSettingsInput } from './file-threat-protection.ts';
import { Compliance } from './images.ts';
import { RuntimePolicyInput } from './runtime-policies.ts';
import { RuntimeProfileInput } from './runtime-profiles.ts';
import { RegistryPrefix, ScopeResource } from './scopes.ts';
import { SignatureValidatorInput } from './signature-validators.ts';

/**
 * Policy bundle format v1: everything an agent in one cluster needs to decide on its own. Defined once here; the
 * control plane compiles it and the agent verifies and evaluates it.
 */
export const BUNDLE_API_VERSION = 'palisade.dev/bundle/v1';
/** JOSE `typ` of a signed bundle. */
export const BUNDLE_JWS_TYPE = 'palisade-bundle+jwt';

const Ref = { id: z.uuid(), name: z.string() };

export const BundleScope = z.object({ ...Ref, global: z.boolean(), resources: z.array(ScopeResource) });

export const BundlePolicy = RuntimePolicyInput.omit({ scopeIds: true }).extend({
  ...Ref,
  /** References to registries are resolved to their prefixes, so the agent sees prefixes only. */
  registriesAllowed: z
    .strictObject({ enabled: z.boolean().default(false), registries: z.array(RegistryPrefix).max(500).default([]) })
    .default({ enabled: false, registries: [] }),
  revision: z.int().min(1),
  /** The policy's scopes, resolved, so the agent can match namespaces without another lookup. */
  scopes: z.array(BundleScope).min(1),
});
export type BundlePolicy = z.output<typeof BundlePolicy>;

export const BundleRuntimeProfile = RuntimeProfileInput.extend(Ref);
export type BundleRuntimeProfile = z.output<typeof BundleRuntimeProfile>;
export const BundleSignatureValidator = SignatureValidatorInput.extend(Ref);

export const BundleImage = z.object({
  /** Normalized repository name: `docker.io/library/nginx`. */
  reference: z.string(),
  digest: z.string(),
  tags: z.array(z.string()),
  compliance: Compliance,
  lastScanAt: z.string().optional(),
  /** A `compliant` verdict holds until then (scan age, allow-list expiry); after it the agent treats the image as non-compliant. */
  compliantUntil: z.string().optional(),
  /** Why the image is non-compliant, in one line (the first assurance reason). */
  why: z.string().optional(),
});
export type BundleImage = z.output<typeof BundleImage>;

export const BundleContentV1 = z
  .object({
    apiVersion: z.literal(BUNDLE_API_VERSION),
    tenantId: z.uuid(),
    cluster: z.object({ ...Ref, labels: Labels.optional() }),
    policies: z.array(BundlePolicy),
    runtimeProfiles: z.array(BundleRuntimeProfile),
    signatureValidators: z.array(BundleSignatureValidator),
    /** The inventory, present when an enabled policy blocks unregistered or non-compliant images. */
    images: z.array(BundleImage),
    registries: z.array(z.object({ ...Ref, url: z.string() })),
    /** Present when an enabled policy turns File Threat Protection on. */
    fileThreatProtection: FileThreatProtectionSettingsInput.nullable(),
    /**
     * With File Threat Protection: the tenant's effective signature set the agent must scan with, by version and
     * digest (`GET /v1/agent/file-signatures`; a set with another digest is refused). Absent otherwise.
     */
    fileSignatures: BundleFileSignatures.optional(),
  })
  .meta({ id: 'BundleContentV1' });
export type BundleContentV1 = z.output<typeof BundleContentV1>;

/** Claims of the signed bundle (a compact JWS whose payload is a JWT claim set carrying the content). */
export const BundleClaims = z.object({
  iss: z.string(),
  /** Tenant id. */
  tid: z.uuid(),
  /** Cluster id. */
  aud: z.string(),
  rev: z.int().min(1),
  /** `sha256:<hex>` of the canonical JSON of `bundle`. */
  dig: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  iat: z.int(),
  exp: z.int(),
  bundle: z.unknown(),
});
export type BundleClaims = z.output<typeof BundleClaims>;
