import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };

/** A cosign public key (PEM SubjectPublicKeyInfo: ECDSA P-256/384/521, RSA, Ed25519). Throws on anything else. */
export function loadPublicKey(pem: string): KeyObject {
  const key = createPublicKey({ key: pem, format: 'pem' });
  const type = key.asymmetricKeyType;
  if (type === 'ec' && CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] === undefined) throw new Error(`unsupported curve ${key.asymmetricKeyDetails?.namedCurve}`);
  if (type !== 'ec' && type !== 'rsa' && type !== 'rsa-pss' && type !== 'ed25519') throw new Error(`unsupported key type ${type}`);
  return key;
}

/**
 * Whether `signature` over `data` verifies with the key, in the schemes cosign signs with: ECDSA (ASN.1 DER) with
 * SHA-256 or the curve's own hash (cosign's `--signing-algorithm` for P-384/P-521), RSA PKCS#1 v1.5 or PSS with
 * SHA-256, and Ed25519 over the data itself.
 */
export function verifyWithKey(key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    switch (key.asymmetricKeyType) {
      case 'ed25519':
        return verify(null, data, key, signature);
      case 'ec': {
        const own = CURVE_HASH[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'sha256';
        return [...new Set(['sha256', own])].some((hash) => verify(hash, data, { key, dsaEncoding: 'der' }, signature));
      }
      default:
        return verify('sha256', data, key, signature) || verify('sha256', data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: -2 }, signature);
    }
  } catch {
    return false;
  }
}
