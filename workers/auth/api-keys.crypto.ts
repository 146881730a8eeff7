import { randomToken, sha256Hex } from '../ids.ts';

export interface MintedKey {
  secret: string;
  /** Visible start of a minted secret (kind and 8 random characters, independent of the 256 secret bits). */
  prefix: string;
  hash: string;
}

/**
 * A new secret `<kind>_<8 visible>_<256 random bits>`; only its SHA-256 is stored. Kinds: `psk` API keys, `pcc` cluster
 * credentials, `pet` enrollment tokens, so a secret pasted in the wrong place is recognizable.
 */
export async function mintSecret(kind: 'psk' | 'pcc' | 'pet'): Promise<MintedKey> {
  const visible = randomToken(12).replace(/[^A-Za-z0-9]/g, '').slice(0, 8).padEnd(8, '0');
  const secret = `${kind}_${visible}_${randomToken(32)}`;
  return { secret, prefix: `${kind}_${visible}`, hash: await sha256Hex(secret) };
}

export const mintApiKey = () => mintSecret('psk');

/**
 * The shortest chosen API key (PALISADE_BOOTSTRAP_KEY) accepted: 32 characters of the token alphabet hold at least 128
 * bits when picked at random (`openssl rand -hex 16` and longer, `openssl rand -base64 32`); a shorter one is guessable.
 */
export const MIN_BOOTSTRAP_KEY_LENGTH = 32;
const TOKEN_CHARS = /^[A-Za-z0-9._~+/=-]+$/;

/** Why a chosen key must not be used, in one line that never repeats the key; undefined when it is fine (or unset). */
export function bootstrapKeyProblem(secret: string | undefined): string | undefined {
  if (secret === undefined || secret === '') return undefined;
  if (secret.length < MIN_BOOTSTRAP_KEY_LENGTH) {
    return `PALISADE_BOOTSTRAP_KEY is ${secret.length} characters long; use at least ${MIN_BOOTSTRAP_KEY_LENGTH} characters picked at random, e.g. $(openssl rand -hex 24)`;
  }
  if (!TOKEN_CHARS.test(secret)) return 'PALISADE_BOOTSTRAP_KEY may hold only letters, digits and . _ ~ + / = - (it is sent as a Bearer token)';
  return undefined;
}

/** A chosen secret (PALISADE_BOOTSTRAP_KEY): refused when too weak; nothing of it is kept but its hash. */
export async function importApiKey(secret: string): Promise<MintedKey> {
  const problem = bootstrapKeyProblem(secret);
  if (problem) throw new Error(problem);
  return { secret, prefix: 'psk', hash: await sha256Hex(secret) };
}
