import { createHash, generateKeyPairSync, randomInt, sign, type KeyObject } from 'node:crypto';
import { bundleToJSON, toDSSEBundle } from '@sigstore/bundle';
import { dsse } from '@sigstore/core';
import { initializeCA, initializeTSA } from '@sigstore/mock';
import { COSIGN_SIGN_PREDICATE } from '../../src/signatures/verify.ts';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/**
 * The mock TSA writes `genTime` as DER wants it, with the milliseconds' trailing zeros dropped (`…05.12Z`), and
 * `@sigstore/core` parses only exactly three digits, so about one timestamp in ten failed with "invalid time". The
 * TSA reads the time from a `Date` it was given, so each stamp sets that clock to the next whole second: never before
 * the signing certificate (whose `notBefore` is truncated to the second), and no fraction to parse.
 */
const stampAtNextSecond = (clock: Date) => clock.setTime(Math.floor(Date.now() / 1000) * 1000 + 1000);
const ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';

/** A private Sigstore: `@sigstore/mock`'s Fulcio-like CA and RFC 3161 TSA, and the `trusted_root.json` naming them. */
export async function mockSigstore() {
  const ca = await initializeCA(generateKeyPairSync('ec', { namedCurve: 'P-256' }));
  const tsaClock = new Date();
  const tsa = await initializeTSA(generateKeyPairSync('ec', { namedCurve: 'P-256' }), tsaClock);
  const start = '2020-01-01T00:00:00Z';
  const trustedRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [],
    ctlogs: [],
    certificateAuthorities: [{ subject: { organization: 'mock', commonName: 'fulcio' }, uri: 'https://fulcio.mock', certChain: { certificates: [{ rawBytes: b64(ca.rootCertificate) }] }, validFor: { start } }],
    timestampAuthorities: [{ subject: { organization: 'mock', commonName: 'tsa' }, uri: 'https://tsa.mock', certChain: { certificates: [{ rawBytes: b64(tsa.intCertificate) }, { rawBytes: b64(tsa.rootCertificate) }] }, validFor: { start } }],
  };
  return { ca, tsa, tsaClock, trustedRoot };
}
export type MockSigstore = Awaited<ReturnType<typeof mockSigstore>>;

/** The in-toto statement of a cosign v3 image signature. */
export const imageStatement = (digest: string, predicateType = COSIGN_SIGN_PREDICATE) =>
  Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'image', digest: { sha256: digest.slice('sha256:'.length) } }], predicateType, predicate: {} }));

/** A cosign v3 keyless image signature: a certificate from the mock CA for `subject`/`issuer`, a TSA timestamp. */
export async function keylessBundle(m: MockSigstore, digest: string, identity: { subject: string; issuer: string }, o: { predicateType?: string; timestamp?: boolean } = {}): Promise<unknown> {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const certificate = await m.ca.issueCertificate({
    publicKey: key.publicKey.export({ type: 'spki', format: 'der' }),
    subjectAltName: identity.subject,
    extensions: [{ oid: ISSUER_V1, value: identity.issuer, legacy: true }, { oid: ISSUER_V2, value: identity.issuer }],
  });
  const payload = imageStatement(digest, o.predicateType);
  const signature = sign('sha256', dsse.preAuthEncoding('application/vnd.in-toto+json', payload), key.privateKey);
  const bundle = bundleToJSON(toDSSEBundle({ artifact: payload, artifactType: 'application/vnd.in-toto+json', signature, certificate: Buffer.from(certificate.buffer, certificate.byteOffset, certificate.byteLength), singleCertificate: true } as never)) as Record<string, any>;
  if (o.timestamp !== false) {
    stampAtNextSecond(m.tsaClock);
    const ts = await m.tsa.timestamp({ artifactHash: createHash('sha256').update(signature).digest(), hashAlgorithmOID: '2.16.840.1.101.3.4.2.1', nonce: randomInt(1, 2 ** 31), policyOID: '1.2.3.4' });
    bundle.verificationMaterial.timestampVerificationData = { rfc3161Timestamps: [{ signedTimestamp: b64(new Uint8Array(ts.buffer, ts.byteOffset, ts.byteLength)) }] };
  }
  return bundle;
}

/** A cosign v3 keyed image signature (public-key hint, no log entry). */
export function keyedBundle(privateKey: KeyObject, digest: string, o: { statementDigest?: string } = {}): unknown {
  const payload = imageStatement(o.statementDigest ?? digest);
  const signature = sign(privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', dsse.preAuthEncoding('application/vnd.in-toto+json', payload), privateKey);
  return bundleToJSON(toDSSEBundle({ artifact: payload, artifactType: 'application/vnd.in-toto+json', signature, keyHint: 'release' }));
}

/** A legacy keyless signature's parts: the key to sign the payload with and the annotations cosign adds. */
export async function legacyKeyless(m: MockSigstore, payload: Buffer, identity: { subject: string; issuer: string }) {
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = await m.ca.issueCertificate({
    publicKey: key.publicKey.export({ type: 'spki', format: 'der' }),
    subjectAltName: identity.subject,
    extensions: [{ oid: ISSUER_V1, value: identity.issuer, legacy: true }, { oid: ISSUER_V2, value: identity.issuer }],
  });
  const pem = `-----BEGIN CERTIFICATE-----\n${b64(new Uint8Array(der.buffer, der.byteOffset, der.byteLength)).replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`;
  const signature = sign('sha256', payload, key.privateKey);
  stampAtNextSecond(m.tsaClock);
  const ts = await m.tsa.timestamp({ artifactHash: createHash('sha256').update(signature).digest(), hashAlgorithmOID: '2.16.840.1.101.3.4.2.1', nonce: randomInt(1, 2 ** 31), policyOID: '1.2.3.4' });
  return { privateKey: key.privateKey, signature: signature.toString('base64'), annotations: { 'dev.sigstore.cosign/certificate': pem, 'dev.sigstore.cosign/rfc3161timestamp': JSON.stringify({ SignedRFC3161Timestamp: b64(new Uint8Array(ts.buffer, ts.byteOffset, ts.byteLength)) }) } };
}
