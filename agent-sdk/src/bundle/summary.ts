import type { BundleContentV1 } from '../../../schema/bundle.ts';
import type { VerifiedBundle } from './verify.ts';

/** What a bundle holds, in counts. */
export interface BundleSummary {
  revision: number;
  digest: string;
  clusterId: string;
  clusterName: string;
  issuedAt: string;
  expiresAt: string;
  expired: boolean;
  policies: number;
  enabledPolicies: number;
  runtimeProfiles: number;
  signatureValidators: number;
  images: number;
  registries: number;
  /** File Threat Protection settings are present (an enabled policy turns it on). */
  fileThreatProtection: boolean;
}

/**
 * Counts of what a verified bundle holds.
 *
 * @example
 * ```ts
 * const summary = summarizeBundle(await verifyBundle(jws, options));
 * console.log(`revision ${summary.revision}: ${summary.policies} policies`);
 * ```
 */
export function summarizeBundle(bundle: VerifiedBundle): BundleSummary {
  const c: BundleContentV1 = bundle.content;
  return {
    revision: bundle.revision,
    digest: bundle.digest,
    clusterId: c.cluster.id,
    clusterName: c.cluster.name,
    issuedAt: bundle.issuedAt.toISOString(),
    expiresAt: bundle.expiresAt.toISOString(),
    expired: bundle.expired,
    policies: c.policies.length,
    enabledPolicies: c.policies.filter((p) => p.enabled).length,
    runtimeProfiles: c.runtimeProfiles.length,
    signatureValidators: c.signatureValidators.length,
    images: c.images.length,
    registries: c.registries.length,
    fileThreatProtection: c.fileThreatProtection !== null,
  };
}

/**
 * The summary as a few lines for a terminal.
 *
 * @example
 * ```ts
 * console.log(formatSummary(summarizeBundle(bundle)));
 * ```
 */
export function formatSummary(s: BundleSummary): string {
  return [
    `revision ${s.revision} (${s.digest})`,
    `cluster ${s.clusterName} (${s.clusterId})`,
    `issued ${s.issuedAt}, expires ${s.expiresAt}${s.expired ? ' (EXPIRED)' : ''}`,
    `policies: ${s.policies} (${s.enabledPolicies} enabled)`,
    `runtime profiles: ${s.runtimeProfiles}`,
    `signature validators: ${s.signatureValidators}`,
    `images: ${s.images}`,
    `registries: ${s.registries}`,
    `file threat protection: ${s.fileThreatProtection ? 'on' : 'off'}`,
  ].join('\n');
}
