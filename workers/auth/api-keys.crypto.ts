import { randomToken, sha256Hex } from '../ids.ts';

export interface MintedKey {
  secret: string;
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

/** A chosen secret (PALISADE_BOOTSTRAP_KEY) keeps its own first characters as prefix. */
export async function importApiKey(secret: string): Promise<MintedKey> {
  return { secret, prefix: secret.slice(0, 12), hash: await sha256Hex(secret) };
}
