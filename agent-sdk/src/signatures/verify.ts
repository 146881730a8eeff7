import { createHash } from 'node:crypto';
import { bundleFromJSON, type Bundle } from '@sigstore/bundle';
import { toSignedEntity, type Signer } from '@sigstore/verify';
import { verifyWithKey } from './keys.ts';
import type { LegacySignature } from './legacy.ts';
import { parseSimpleSigning } from './simple-signing.ts';
import type { PreparedValidator } from './validators.ts';

/** What one signature says about one digest under one validator. */
export type CandidateOutcome =
  | { result: 'verified' }
  | { result: 'otherDigest'; detail: string }
  | { result: 'otherSigner'; detail: string }
  | { result: 'notCounted'; detail: string };

/** The in-toto predicate type of a cosign v3 image signature (anything else attached is an attestation). */
export const COSIGN_SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';

function identityOk(v: PreparedValidator, signer: Signer): CandidateOutcome {
  if (v.kind === 'publicKey') return { result: 'verified' };
  const subject = signer.identity?.subjectAlternativeName ?? '';
  const issuer = signer.identity?.extensions?.issuer ?? '';
  if (v.identities.some((i) => i.subject.test(subject) && i.issuer.test(issuer))) return { result: 'verified' };
  return { result: 'otherSigner', detail: `certificate identity ${JSON.stringify(subject)} from issuer ${JSON.stringify(issuer)} is not allowed` };
}

/** Runs the Sigstore verifier; `undefined` plus a reason when the signature or its trust chain does not hold. */
export function verifyBundle(v: PreparedValidator, bundle: Bundle, artifact?: Buffer): { signer?: Signer; error?: string } {
  try {
    return { signer: v.verifier.verify(toSignedEntity(bundle, artifact)) };
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { error: `${code ? `${code}: ` : ''}${(err as Error).message}` };
  }
}

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A legacy keyless signature (certificate annotation) as a Sigstore bundle, so the one verifier checks it. */
function legacyAsBundle(sig: LegacySignature): Bundle {
  const certs = [sig.certificate!, ...(sig.chain ? [sig.chain] : [])].flatMap((pem) => [...pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)].map((m) => ({ rawBytes: m[1]!.replace(/\s+/g, '') })));
  const tlogEntries: unknown[] = [];
  if (sig.rekorBundle) {
    const rb = JSON.parse(sig.rekorBundle) as { SignedEntryTimestamp: string; Payload: { body: string; integratedTime: number; logIndex: number; logID: string } };
    tlogEntries.push({
      logIndex: String(rb.Payload.logIndex),
      logId: { keyId: Buffer.from(rb.Payload.logID, 'hex').toString('base64') },
      kindVersion: { kind: 'hashedrekord', version: '0.0.1' },
      integratedTime: String(rb.Payload.integratedTime),
      inclusionPromise: { signedEntryTimestamp: rb.SignedEntryTimestamp },
      canonicalizedBody: rb.Payload.body,
    });
  }
  const rfc3161 = sig.rfc3161 ? [{ signedTimestamp: (JSON.parse(sig.rfc3161) as { SignedRFC3161Timestamp: string }).SignedRFC3161Timestamp }] : [];
  return bundleFromJSON({
    mediaType: 'application/vnd.dev.sigstore.bundle+json;version=0.1',
    verificationMaterial: { x509CertificateChain: { certificates: certs.slice(0, 1) }, tlogEntries, timestampVerificationData: { rfc3161Timestamps: rfc3161 } },
    messageSignature: { messageDigest: { algorithm: 'SHA2_256', digest: b64(createHash('sha256').update(sig.payload).digest()) }, signature: b64(sig.signature) },
  });
}

/**
 * A legacy (`.sig` tag) signature: the signature must verify with the validator (its key, or for keyless the
 * certificate chain, timestamps and identity), and then the payload must name exactly `digest`.
 */
export function verifyLegacy(v: PreparedValidator, sig: LegacySignature, digest: string): CandidateOutcome {
  if (v.kind === 'publicKey') {
    if (!verifyWithKey(v.key, sig.payload, sig.signature)) return { result: 'otherSigner', detail: 'the signature does not verify with the validator key' };
  } else {
    if (!sig.certificate) return { result: 'otherSigner', detail: 'a keyed signature (no certificate) cannot satisfy a keyless validator' };
    let bundle: Bundle;
    try {
      bundle = legacyAsBundle(sig);
    } catch (err) {
      return { result: 'notCounted', detail: `malformed certificate or Rekor annotations: ${(err as Error).message}` };
    }
    const { signer, error } = verifyBundle(v, bundle, Buffer.from(sig.payload));
    if (!signer) return { result: 'otherSigner', detail: error! };
    const who = identityOk(v, signer);
    if (who.result !== 'verified') return who;
  }
  let payload;
  try {
    payload = parseSimpleSigning(sig.payload);
  } catch (err) {
    return { result: 'notCounted', detail: (err as Error).message };
  }
  if (payload.digest !== digest) return { result: 'otherDigest', detail: `the signed payload names ${payload.digest.slice(0, 80)}` };
  return { result: 'verified' };
}

/**
 * A cosign v3 Sigstore bundle: it counts only as an image signature (a DSSE in-toto statement with predicate type
 * `https://sigstore.dev/cosign/sign/v1`) whose subject is `digest`, verified with the validator.
 */
export function verifyImageBundle(v: PreparedValidator, json: unknown, digest: string): CandidateOutcome {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    return { result: 'notCounted', detail: `not a Sigstore bundle: ${(err as Error).message}` };
  }
  if (bundle.content.$case !== 'dsseEnvelope') return { result: 'notCounted', detail: 'not a DSSE image signature' };
  const envelope = bundle.content.dsseEnvelope;
  if (envelope.payloadType !== 'application/vnd.in-toto+json') return { result: 'notCounted', detail: `payload type ${envelope.payloadType}` };
  let statement: { predicateType?: unknown; subject?: unknown };
  try {
    statement = JSON.parse(Buffer.from(envelope.payload).toString('utf8'));
  } catch {
    return { result: 'notCounted', detail: 'statement is not JSON' };
  }
  if (statement.predicateType !== COSIGN_SIGN_PREDICATE) return { result: 'notCounted', detail: `predicate ${String(statement.predicateType).slice(0, 100)} is not an image signature` };
  const { signer, error } = verifyBundle(v, bundle);
  if (!signer) return { result: 'otherSigner', detail: error! };
  const who = identityOk(v, signer);
  if (who.result !== 'verified') return who;
  const hex = digest.slice('sha256:'.length);
  const subjects = Array.isArray(statement.subject) ? (statement.subject as Array<{ digest?: { sha256?: unknown } }>) : [];
  if (!subjects.some((s) => s?.digest?.sha256 === hex)) return { result: 'otherDigest', detail: 'the statement subject names another digest' };
  return { result: 'verified' };
}

/**
 * Any Sigstore bundle over an artifact (a message signature, or a DSSE in-toto statement whose subject must include
 * the artifact's SHA-256), verified with the validator as image signatures are. The conformance suite runs through
 * this, so image verification and the suite share every step but the image-specific statement checks.
 */
export function verifyArtifactBundle(v: PreparedValidator, json: unknown, artifact: Buffer): CandidateOutcome {
  let bundle: Bundle;
  try {
    bundle = bundleFromJSON(json);
  } catch (err) {
    return { result: 'notCounted', detail: `not a Sigstore bundle: ${(err as Error).message}` };
  }
  const { signer, error } = verifyBundle(v, bundle, bundle.content.$case === 'messageSignature' ? artifact : undefined);
  if (!signer) return { result: 'otherSigner', detail: error! };
  const who = identityOk(v, signer);
  if (who.result !== 'verified') return who;
  if (bundle.content.$case === 'dsseEnvelope') {
    const hex = createHash('sha256').update(artifact).digest('hex');
    let subjects: Array<{ digest?: { sha256?: unknown } }> = [];
    try {
      const s = JSON.parse(Buffer.from(bundle.content.dsseEnvelope.payload).toString('utf8')) as { subject?: unknown };
      subjects = Array.isArray(s.subject) ? s.subject : [];
    } catch {
      return { result: 'notCounted', detail: 'statement is not JSON' };
    }
    if (!subjects.some((s) => s?.digest?.sha256 === hex)) return { result: 'otherDigest', detail: 'the statement subject names another artifact' };
  }
  return { result: 'verified' };
}
