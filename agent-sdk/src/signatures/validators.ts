import type { KeyObject } from 'node:crypto';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { toTrustMaterial, Verifier } from '@sigstore/verify';
import type { BundleValidator } from '../engine/index.ts';
import { loadPublicKey } from './keys.ts';
import { publicGoodTrustedRoot } from './trust-root.ts';

interface Matcher {
  test(value: string): boolean;
}
const exact = (s: string): Matcher => ({ test: (v) => v === s });
/** Anchored: the expression must match the whole issuer or subject. */
const anchored = (src: string): Matcher => new RegExp(`^(?:${src})$`, 'u');

/** A validator made ready once per bundle: keys parsed, trust material and Sigstore verifier built. */
export type PreparedValidator =
  | { kind: 'publicKey'; id: string; key: KeyObject; verifier: Verifier }
  | { kind: 'keyless'; id: string; verifier: Verifier; identities: Array<{ issuer: Matcher; subject: Matcher }> };

/**
 * Keyed: the key verifies bundles whatever their key hint, with no timestamps or log entries required (the key is the
 * trust); those a bundle carries must verify against the validator's root (else the public-good one). Keyless: the validator's trusted root (else the public-good one), at least one verified timestamp (a
 * transparency-log entry or an RFC 3161 timestamp) proving the short-lived certificate was valid when it signed, an
 * SCT when the root names CT logs, and one of the identities.
 */
export function prepareValidator(v: BundleValidator): PreparedValidator {
  if (v.verification.method === 'publicKey') {
    const key = loadPublicKey(v.verification.publicKey);
    // Log entries and timestamps a keyed bundle carries are verified against the root; none are required.
    const trust = toTrustMaterial(TrustedRoot.fromJSON(v.verification.trustedRoot ?? publicGoodTrustedRoot()), () => ({ publicKey: key, validFor: () => true }));
    return { kind: 'publicKey', id: v.id, key, verifier: new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }) };
  }
  const root = v.verification.trustedRoot ?? publicGoodTrustedRoot();
  const trust = toTrustMaterial(TrustedRoot.fromJSON(root));
  const verifier = new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: (root.ctlogs?.length ?? 0) > 0 ? 1 : 0, timestampThreshold: 1 });
  const identities = v.verification.identities.map((i) => ({
    issuer: i.issuerRegExp !== undefined ? anchored(i.issuerRegExp) : exact(i.issuer!),
    subject: i.subjectRegExp !== undefined ? anchored(i.subjectRegExp) : exact(i.subject!),
  }));
  return { kind: 'keyless', id: v.id, verifier, identities };
}

const prepared = new WeakMap<BundleValidator, PreparedValidator | Error>();

/** {@link prepareValidator}, memoized per validator object (a bundle's validators live as long as the bundle). */
export function preparedValidator(v: BundleValidator): PreparedValidator | Error {
  let p = prepared.get(v);
  if (!p) {
    try {
      p = prepareValidator(v);
    } catch (err) {
      p = err instanceof Error ? err : new Error(String(err));
    }
    prepared.set(v, p);
  }
  return p;
}
