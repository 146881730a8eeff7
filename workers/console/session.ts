/**
 * Console sessions without a server-side table: the credential (an API key or OIDC token) is sealed with AES-GCM into
 * an HttpOnly, Secure, SameSite=Strict cookie, so it never reaches page HTML, scripts or localStorage, and a stolen
 * cookie value cannot be read or altered without the session key. The sealed payload also carries the CSRF token and
 * an absolute expiry; signing out clears the cookie (a copied cookie stays valid until its expiry or key rotation).
 */
import { base64urlBytes } from '../base64url.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** `__Host-`: the browser refuses it unless Secure, Path=/ and no Domain, so no subdomain can plant one. */
export const SESSION_COOKIE = '__Host-palisade-session';
export const SESSION_HOURS = 8;

export interface Session {
  /** The bearer credential the console uses on the API for this user. */
  credential: string;
  csrf: string;
  /** Expiry, ms since epoch. */
  exp: number;
}

const fromB64url = (text: string) => Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (ch) => ch.charCodeAt(0));

/** A 256-bit AES-GCM key from raw secret material (any length: it is hashed with HKDF). */
export async function sessionKeyFrom(material: Uint8Array | string): Promise<CryptoKey> {
  const raw = typeof material === 'string' ? enc.encode(material) : material;
  const base = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'HKDF', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: enc.encode('palisade-console'), info: enc.encode('session cookie v1') },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

export const randomSessionKey = () => sessionKeyFrom(crypto.getRandomValues(new Uint8Array(32)));

export function newCsrfToken(): string {
  return base64urlBytes(crypto.getRandomValues(new Uint8Array(24)));
}

export async function seal(key: CryptoKey, session: Session): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const body = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(SESSION_COOKIE) }, key, enc.encode(JSON.stringify(session))));
  return `v1.${base64urlBytes(iv)}.${base64urlBytes(body)}`;
}

/** The session in a cookie value, or undefined when it is absent, forged, altered or expired. */
export async function unseal(key: CryptoKey, value: string | undefined, now: number): Promise<Session | undefined> {
  const [version, iv, body] = value?.split('.') ?? [];
  if (version !== 'v1' || !iv || !body) return undefined;
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: fromB64url(iv), additionalData: enc.encode(SESSION_COOKIE) }, key, fromB64url(body));
    const session = JSON.parse(dec.decode(plain)) as Session;
    if (typeof session.credential !== 'string' || typeof session.csrf !== 'string' || !(session.exp > now)) return undefined;
    return session;
  } catch {
    return undefined;
  }
}

/** Constant-time comparison of two CSRF tokens. */
export function sameToken(a: string | undefined, b: string): boolean {
  if (a === undefined || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
