/**
 * Registry credentials at rest: AES-256-GCM with WebCrypto (Node and Workers alike), a random 96-bit IV per seal, the
 * tenant id as additional data so a ciphertext moved to another tenant's row does not open. The key comes from the
 * entry file: a file under the Node data directory (`registry-credentials.key`, mode 0600) or the Workers secret
 * `PALISADE_REGISTRY_CREDENTIALS_KEY`; both hold 32 random bytes, base64.
 */
export interface Credentials {
  username: string;
  password: string;
}

const enc = new TextEncoder();
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export class CredentialsKeyError extends Error {
  override readonly name = 'CredentialsKeyError';
}

/** Imports the 32-byte key from its base64 text; throws CredentialsKeyError for anything else. */
export async function importCredentialsKey(base64: string): Promise<CryptoKey> {
  let raw: Uint8Array;
  try {
    raw = unb64(base64.trim());
  } catch {
    throw new CredentialsKeyError('the registry credentials key is not base64');
  }
  if (raw.length !== 32) throw new CredentialsKeyError(`the registry credentials key must be 32 bytes (base64), got ${raw.length}`);
  return crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** 32 random bytes, base64: a new key for the file or the secret. */
export const generateCredentialsKey = () => b64(crypto.getRandomValues(new Uint8Array(32)));

export async function sealCredentials(key: CryptoKey, tenantId: string, creds: Credentials): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ct = new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(tenantId) }, key, enc.encode(JSON.stringify(creds))));
  return `v1.${b64(iv)}.${b64(ct)}`;
}

export async function openCredentials(key: CryptoKey, tenantId: string, sealed: string): Promise<Credentials> {
  const [version, iv, ct] = sealed.split('.');
  if (version !== 'v1' || !iv || !ct) throw new CredentialsKeyError('stored credentials are in an unknown format');
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(iv) as Uint8Array<ArrayBuffer>, additionalData: enc.encode(tenantId) }, key, unb64(ct) as Uint8Array<ArrayBuffer>);
    return JSON.parse(new TextDecoder().decode(plain)) as Credentials;
  } catch {
    throw new CredentialsKeyError('stored credentials do not open with the configured key (was the key changed?)');
  }
}
