import { randomUUID } from 'node:crypto';
import { BundleContentV1 } from '../../../schema/bundle.ts';
import { FILE_THREAT_PROTECTION_DEFAULTS } from '../../../schema/file-threat-protection.ts';
import { evaluate, signatureNeeds, type Decision } from '../../src/engine/index.ts';
import type { SignatureVerifier } from '../../src/signatures/verifier.ts';

export interface RuleSpec {
  template: string;
  verify: boolean;
  validator?: string;
}

/** Bundle content with one policy (`mode`) of signature rules and the named validators. */
export async function signatureBundle(o: { mode?: 'audit' | 'enforce'; rules: RuleSpec[]; validators: Record<string, unknown> }): Promise<BundleContentV1> {
  const ids = new Map(Object.keys(o.validators).map((name) => [name, randomUUID()]));
  return BundleContentV1.parseAsync({
    apiVersion: 'palisade.dev/bundle/v1',
    tenantId: randomUUID(),
    cluster: { id: randomUUID(), name: 'prod-eu', labels: {} },
    policies: [
      {
        id: randomUUID(), name: 'signed-only', revision: 1, mode: o.mode ?? 'enforce', scopes: [{ id: randomUUID(), name: 'all', global: true, resources: [] }],
        imageContentProtection: { enabled: true, rules: o.rules.map((r) => ({ registryUrlTemplate: r.template, verify: r.verify, ...(r.validator ? { validatorId: ids.get(r.validator) } : {}) })) },
      },
    ],
    runtimeProfiles: [],
    signatureValidators: Object.entries(o.validators).map(([name, v]) => ({ id: ids.get(name), name, type: 'cosign', ...(v as object) })),
    images: [],
    registries: [],
    fileThreatProtection: FILE_THREAT_PROTECTION_DEFAULTS,
  });
}

export const podWith = (...images: string[]) => ({ kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } });

/** The I/O stage then the pure decision, as the webhook runs them. */
export async function decide(bundle: BundleContentV1, verifier: SignatureVerifier, ...images: string[]): Promise<Decision> {
  const input = { object: podWith(...images) };
  const signatures = await verifier.facts(signatureNeeds(bundle, input), 20_000);
  return evaluate(bundle, { ...input, signatures }, { now: new Date(), bundleRevision: 1 });
}
