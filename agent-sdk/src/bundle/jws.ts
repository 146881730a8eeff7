import { compactVerify, errors, importJWK, type CryptoKey, type JWK } from 'jose';
import { BUNDLE_JWS_TYPE } from '../../../schema/bundle.ts';
import { reject, shown } from './errors.ts';

/**
 * A JSON Web Key Set: the agent's trust anchor.
 *
 * @example
 * ```ts
 * const trust: JWKS = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKx...', kid: 'k1', alg: 'EdDSA', use: 'sig' }] };
 * ```
 */
export interface JWKS {
  keys: JWK[];
}

/**
 * The only signature algorithms a bundle may use. Never `none`, never HMAC.
 *
 * @example
 * ```ts
 * if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(jwk.alg ?? '')) throw new Error('unusable trust key');
 * ```
 */
export const ALLOWED_ALGORITHMS = ['EdDSA', 'ES256'] as const;
export type AllowedAlgorithm = (typeof ALLOWED_ALGORITHMS)[number];

export interface BundleHeader {
  alg: string;
  kid: string;
  typ: string;
}

const B64URL = /^[A-Za-z0-9_-]*$/;
/** Header members that would make the JWS mean something other than "payload signed by the key `kid`". */
const FORBIDDEN_HEADER_MEMBERS = ['crit', 'b64', 'jwk', 'jku', 'x5c', 'x5u', 'zip', 'enc'];

/** Step 1: the size limit, checked on the raw bytes before anything is parsed. Returns the text, trimmed. */
export function checkSize(input: string | Uint8Array, maxBytes: number): string {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input).byteLength : input.byteLength;
  if (bytes > maxBytes) reject('too_large', `bundle is ${bytes} bytes, more than the limit of ${maxBytes}`);
  if (typeof input === 'string') return input.trim();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input).trim();
  } catch (cause) {
    return reject('malformed', 'bundle is not UTF-8 text', cause);
  }
}

/**
 * Step 2: a compact JWS (three base64url parts) with the bundle's protected header. `typ` is the document type expected
 * (a signature set, signed the same way, has its own), so one signed document never passes for another.
 */
export function parseCompact(jws: string, typ: string = BUNDLE_JWS_TYPE): BundleHeader {
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) reject('malformed', 'not a compact JWS (three base64url parts)');
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(base64url(parts[0]!)));
  } catch (cause) {
    return reject('malformed', 'the protected header is not base64url JSON', cause);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return reject('malformed', 'the protected header is not a JSON object');
  const h = header as Record<string, unknown>;
  if (typeof h.alg !== 'string') reject('malformed', 'the protected header has no "alg"');
  if (h.typ !== typ) reject('malformed', `"typ" is ${shown(h.typ)}, not "${typ}"`);
  const extra = FORBIDDEN_HEADER_MEMBERS.find((m) => m in h);
  if (extra !== undefined) reject('malformed', `the protected header carries "${extra}", which bundles never use`);
  return { alg: h.alg as string, kid: typeof h.kid === 'string' ? h.kid : '', typ };
}

/** Step 3: the algorithm allow-list. `none` and HS256 (an HMAC keyed with our public key) stop here. */
export function checkAlgorithm(header: BundleHeader): AllowedAlgorithm {
  if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(header.alg))
    reject('alg_not_allowed', `algorithm ${shown(header.alg)} is not allowed (only ${ALLOWED_ALGORITHMS.join(', ')})`);
  return header.alg as AllowedAlgorithm;
}

const KEY_TYPE: Record<AllowedAlgorithm, { kty: string; crv: string }> = { EdDSA: { kty: 'OKP', crv: 'Ed25519' }, ES256: { kty: 'EC', crv: 'P-256' } };

/** Step 4: the key named by `kid`, from the trust anchor only, and only if it is a key of the header's algorithm. */
export async function selectTrustedKey(trust: JWKS, header: BundleHeader, alg: AllowedAlgorithm): Promise<CryptoKey> {
  if (header.kid === '') reject('unknown_key', 'the protected header names no key ("kid")');
  const jwk = trust.keys.find((k) => k.kid === header.kid);
  if (jwk === undefined) return reject('unknown_key', `key ${shown(header.kid)} is not in the trust anchor`);
  if ((jwk.use !== undefined && jwk.use !== 'sig') || (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')))
    reject('unknown_key', `trusted key ${shown(header.kid)} is not a signature verification key`);
  const want = KEY_TYPE[alg];
  if (jwk.kty !== want.kty || jwk.crv !== want.crv || (jwk.alg !== undefined && jwk.alg !== alg))
    reject('alg_not_allowed', `trusted key ${shown(header.kid)} is a ${jwk.kty}/${jwk.crv} key, not for ${alg}`);
  const { kty, crv, x, y } = jwk; // public members only, whatever else the file holds
  try {
    return (await importJWK({ kty, crv, x, ...(y === undefined ? {} : { y }) }, alg)) as CryptoKey;
  } catch (cause) {
    return reject('unknown_key', `trusted key ${shown(header.kid)} cannot be imported`, cause);
  }
}

/** Step 5: the signature over header and payload; returns the payload bytes only once they are authentic. */
export async function checkSignature(jws: string, key: CryptoKey, alg: AllowedAlgorithm): Promise<Uint8Array> {
  try {
    const { payload } = await compactVerify(jws, key, { algorithms: [alg] });
    return payload;
  } catch (cause) {
    if (cause instanceof errors.JWSSignatureVerificationFailed) return reject('bad_signature', 'the signature does not verify', cause);
    if (cause instanceof errors.JOSEAlgNotAllowed) return reject('alg_not_allowed', `algorithm ${alg} is not allowed`, cause);
    return reject('malformed', `the JWS cannot be verified: ${(cause as Error).message}`, cause);
  }
}

function base64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
}
