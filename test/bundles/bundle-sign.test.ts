import { CompactSign, calculateJwkThumbprint, compactVerify, exportJWK, generateKeyPair, type CryptoKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { BUNDLE_JWS_TYPE } from '../../schema/bundle.ts';
import { canonicalJson } from '../../schema/canonical-json.ts';
import { base64urlBytes, base64urlText } from '../../workers/base64url.ts';
import { signBundle, type SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';

/** The signing as it was before: jose's CompactSign over the same payload (the wire format agents verify). */
function joseJws(key: SigningKey, payload: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: BUNDLE_JWS_TYPE }).sign(key.privateKey);
}

const input = (content: string) => ({ issuer: 'https://palisade.test', tenantId: 't-1', clusterId: 'c-1', revision: 7, digest: 'sha256:' + 'ab'.repeat(32), content, issuedAt: 1_800_000_000, ttlSeconds: 3600 });
const payloadOf = (i: ReturnType<typeof input>) =>
  `{"bundle":${i.content},${canonicalJson({ aud: i.clusterId, dig: i.digest, exp: i.issuedAt + i.ttlSeconds, iat: i.issuedAt, iss: i.issuer, rev: i.revision, tid: i.tenantId }).slice(1)}`;

describe('signBundle', () => {
  const contents = [
    '{"policies":[]}',
    canonicalJson({ name: 'ascii', list: Array.from({ length: 5000 }, (_, i) => ({ i, s: `item-${i}` })) }),
    // Non-ASCII text (UTF-8 multi-byte, astral plane, a lone line separator) takes the byte path.
    canonicalJson({ name: 'Ünïcødé ✓ 𝔘 \u2028', note: 'ß'.repeat(40_000) }),
    // Lengths around every base64 padding case.
    '{"a":1}',
    '{"ab":1}',
    '{"abc":1}',
  ];

  it('writes the bytes jose writes for Ed25519 (deterministic), for ASCII and non-ASCII content', async () => {
    const { key } = await generateSigningKey();
    for (const content of contents) {
      const i = input(content);
      expect(await signBundle(key, i)).toBe(await joseJws(key, payloadOf(i)));
    }
  });

  it('writes ES256 signatures that verify, with the header and payload jose writes', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const key: SigningKey = { kid: await calculateJwkThumbprint(publicJwk), alg: 'ES256', privateKey: privateKey as CryptoKey, publicJwk };
    for (const content of contents) {
      const i = input(content);
      const ours = await signBundle(key, i);
      const reference = await joseJws(key, payloadOf(i));
      // ECDSA signatures are randomized: header and payload segments equal, signatures both verify.
      expect(ours.split('.').slice(0, 2)).toEqual(reference.split('.').slice(0, 2));
      const { payload, protectedHeader } = await compactVerify(ours, publicKey);
      expect(new TextDecoder().decode(payload)).toBe(payloadOf(i));
      expect(protectedHeader).toEqual({ alg: 'ES256', kid: key.kid, typ: BUNDLE_JWS_TYPE });
    }
  });

  it('base64url-encodes UTF-8 without padding', () => {
    for (const text of ['', 'f', 'fo', 'foo', 'foob', '\u00ff\u00fe', '✓?>', '𝔘']) expect(base64urlText(text)).toBe(Buffer.from(text, 'utf8').toString('base64url'));
    // Bytes past one chunk of fromCharCode (0x8000), every value, all lengths mod 3.
    const bytes = Uint8Array.from({ length: 0x8000 * 2 + 2 }, (_, i) => (i * 7) % 256);
    for (const n of [0, 1, 2, 3, 0x8000, 0x8001, bytes.length]) expect(base64urlBytes(bytes.subarray(0, n))).toBe(Buffer.from(bytes.subarray(0, n)).toString('base64url'));
  });
});
