import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { BundleVerificationError, verifyBundle, type BundleVerificationCode, type JWKS, type VerifyBundleOptions } from '../src/index.ts';
import { CLUSTER, ISSUER, makeContent, newKey, nowSeconds, OTHER_CLUSTER, OTHER_TENANT, sign, tamper, TENANT } from './support/bundles.ts';

let key: SigningKey;
let trust: JWKS;
let good: string;
const options = (extra: Partial<VerifyBundleOptions> = {}): VerifyBundleOptions => ({
  trust, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, maxBytes: 1024 * 1024, now: new Date(), ...extra,
});
const codeOf = (jws: string | Uint8Array, extra: Partial<VerifyBundleOptions> = {}) =>
  verifyBundle(jws, options(extra)).then(
    () => 'accepted',
    (err: unknown) => (err instanceof BundleVerificationError ? err.code : `unexpected ${String(err)}`),
  );

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  good = await sign(key, { revision: 7 });
});

describe('verifyBundle', () => {
  it('accepts a bundle signed by the control plane and returns its parsed content', async () => {
    const bundle = await verifyBundle(good, options());
    expect(bundle).toMatchObject({ alg: 'EdDSA', kid: key.kid, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, revision: 7, expired: false });
    expect(bundle.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(bundle.content.policies.map((p) => p.name)).toEqual(['baseline', 'audit-only']);
    expect(bundle.expiresAt.getTime() - bundle.issuedAt.getTime()).toBe(24 * 3600 * 1000);
    // bytes, and a file's trailing newline, are fine too
    expect(await codeOf(new TextEncoder().encode(good + '\n'))).toBe('accepted');
  });

  it('accepts ES256 as well', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const publicJwk = await exportJWK(pair.publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const es: SigningKey = { kid, alg: 'ES256', privateKey: pair.privateKey, publicJwk: { ...publicJwk, kid, alg: 'ES256', use: 'sig' } };
    expect(await codeOf(await sign(es), { trust: { keys: [...trust.keys, es.publicJwk] } })).toBe('accepted');
  });

  const cases: Array<[string, () => Promise<string>, BundleVerificationCode, Partial<VerifyBundleOptions>?]> = [
    ['one payload byte flipped', async () => tamper.payloadByte(good), 'bad_signature'],
    ['one signature byte flipped', async () => tamper.signatureByte(good), 'bad_signature'],
    ['signature stripped', async () => tamper.stripSignature(good), 'bad_signature'],
    ['signature part removed', async () => good.split('.').slice(0, 2).join('.'), 'malformed'],
    ['truncated (signature cut short)', async () => tamper.truncate(good), 'malformed'],
    ['truncated (into the payload)', async () => good.slice(0, good.indexOf('.') + 40), 'malformed'],
    ['not a JWS', async () => '{"bundle":{}}', 'malformed'],
    ['alg none', async () => tamper.algNone(good), 'alg_not_allowed'],
    ['HS256 keyed with the public key', async () => tamper.hs256WithPublicKey(good, key.publicJwk.x!), 'alg_not_allowed'],
    ['unknown kid', async () => sign((await newKey()).key), 'unknown_key'],
    ['a foreign key claiming the trusted kid', async () => sign({ ...(await newKey()).key, kid: key.kid }), 'bad_signature'],
    ['another tenant', async () => sign(key, { tenantId: OTHER_TENANT }), 'wrong_tenant'],
    ['another cluster (audience)', async () => sign(key, { clusterId: OTHER_CLUSTER }), 'wrong_cluster'],
    ['another issuer', async () => sign(key, { issuer: 'https://evil.test' }), 'wrong_issuer'],
    ['expired', async () => sign(key, { issuedAt: nowSeconds() - 7200, ttlSeconds: 3600 }), 'expired'],
    ['older revision', async () => sign(key, { revision: 4 }), 'revision_rollback', { minRevision: 5 }],
    ['digest of other content', async () => sign(key, { digest: `sha256:${'0'.repeat(64)}` }), 'digest_mismatch'],
    ['content not format v1', async () => sign(key, { content: { ...(await makeContent()), policies: 'none' } }), 'schema_invalid'],
    ['content for another tenant under our claims', async () => sign(key, { content: await makeContent(OTHER_TENANT) }), 'schema_invalid'],
    ['oversized', async () => good, 'too_large', { maxBytes: 1000 }],
  ];
  it.each(cases)('rejects: %s', async (_name, make, code, extra) => {
    expect(await codeOf(await make(), extra)).toBe(code);
  });

  it('refuses header tricks: embedded keys, crit, wrong typ, and keys of another algorithm', async () => {
    const [h, p, s] = good.split('.') as [string, string, string];
    const withHeader = (extra: object) => `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), ...extra })).toString('base64url')}.${p}.${s}`;
    expect(await codeOf(withHeader({ jwk: key.publicJwk }))).toBe('malformed');
    expect(await codeOf(withHeader({ crit: ['b64'], b64: false }))).toBe('malformed');
    expect(await codeOf(withHeader({ typ: 'JWT' }))).toBe('malformed');
    expect(await codeOf(withHeader({ alg: 'ES256' }))).toBe('alg_not_allowed'); // the trusted kid is an Ed25519 key
    expect(await codeOf(withHeader({ kid: undefined }))).toBe('unknown_key');
  });

  it('stops at the first failed check, in the documented order', async () => {
    const expiredOtherTenant = await sign(key, { tenantId: OTHER_TENANT, issuedAt: nowSeconds() - 7200, ttlSeconds: 60 });
    expect(await codeOf(expiredOtherTenant)).toBe('wrong_tenant');
    expect(await codeOf(tamper.payloadByte(expiredOtherTenant))).toBe('bad_signature');
    expect(await codeOf(expiredOtherTenant, { maxBytes: 10 })).toBe('too_large');
    const oldAndExpired = await sign(key, { revision: 1, issuedAt: nowSeconds() - 7200, ttlSeconds: 60, digest: `sha256:${'0'.repeat(64)}` });
    expect(await codeOf(oldAndExpired, { minRevision: 2 })).toBe('expired');
    expect(await codeOf(oldAndExpired, { minRevision: 2, allowExpired: true })).toBe('revision_rollback');
  });

  it('returns an expired bundle flagged, only when asked to', async () => {
    const expired = await sign(key, { issuedAt: nowSeconds() - 7200, ttlSeconds: 3600 });
    const bundle = await verifyBundle(expired, options({ allowExpired: true }));
    expect(bundle.expired).toBe(true);
  });

  it('uses only the public members of a trusted key, and carries the cause', async () => {
    const err = await verifyBundle(tamper.signatureByte(good), options({ trust: { keys: [{ ...trust.keys[0]!, d: 'AAAA' }] } })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BundleVerificationError);
    expect((err as BundleVerificationError).code).toBe('bad_signature');
    expect((err as BundleVerificationError).cause).toBeInstanceOf(Error);
  });
});
