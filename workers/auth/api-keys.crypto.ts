import { randomToken, sha256Hex } from '../ids.ts';

const SECRET = /^psk_([A-Za-z0-9]{8})_([A-Za-z0-9_-]{43})$/;

export interface MintedKey {
  secret: string;
  prefix: string;
  hash: string;
}

/** A new API key: `psk_<8 visible>_<256 random bits>`; only its SHA-256 is stored. */
export async function mintApiKey(): Promise<MintedKey> {
  const visible = randomToken(12).replace(/[^A-Za-z0-9]/g, '').slice(0, 8).padEnd(8, '0');
  const secret = `psk_${visible}_${randomToken(32)}`;
  return { secret, prefix: `psk_${visible}`, hash: await sha256Hex(secret) };
}

/** A chosen secret (PALISADE_BOOTSTRAP_KEY) keeps its own first characters as prefix. */
export async function importApiKey(secret: string): Promise<MintedKey> {
  return { secret, prefix: secret.slice(0, 12), hash: await sha256Hex(secret) };
}

export const looksLikeApiKey = (token: string) => SECRET.test(token) || token.startsWith('psk_');
