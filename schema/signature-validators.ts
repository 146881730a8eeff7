import { z } from 'zod';
import { Description, Metadata, Name, RegexSource } from './common.ts';

const PEM = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/;

const importAttempts: Array<RsaHashedImportParams | EcKeyImportParams | Algorithm> = [
  { name: 'ECDSA', namedCurve: 'P-256' },
  { name: 'ECDSA', namedCurve: 'P-384' },
  { name: 'ECDSA', namedCurve: 'P-521' },
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  { name: 'Ed25519' },
];

/** True when the text is a PEM SubjectPublicKeyInfo that Web Crypto can import as a cosign verification key. */
export async function isUsablePublicKey(pem: string): Promise<boolean> {
  const match = PEM.exec(pem.trim() + '\n');
  if (!match?.[1]) return false;
  let der: Uint8Array<ArrayBuffer>;
  try {
    der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), (ch) => ch.charCodeAt(0));
  } catch {
    return false;
  }
  for (const algorithm of importAttempts) {
    try {
      await crypto.subtle.importKey('spki', der, algorithm, true, ['verify']);
      return true;
    } catch {
      // not this algorithm; try the next
    }
  }
  return false;
}

const Pattern = z.string().min(1).max(1024);


/** A Fulcio certificate identity: issuer and subject, each exact or a regular expression (cosign's --certificate-identity-regexp). */
export const KeylessIdentity = z
  .strictObject({
    issuer: Pattern.optional(),
    issuerRegExp: RegexSource.optional(),
    subject: Pattern.optional(),
    subjectRegExp: RegexSource.optional(),
  })
  .superRefine((id, ctx) => {
    if ((id.issuer === undefined) === (id.issuerRegExp === undefined))
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'give exactly one of issuer and issuerRegExp' });
    if ((id.subject === undefined) === (id.subjectRegExp === undefined))
      ctx.addIssue({ code: 'custom', path: ['subject'], message: 'give exactly one of subject and subjectRegExp' });
  });

export const SignatureValidatorInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    type: z.literal('cosign'),
    verification: z.discriminatedUnion('method', [
      z.strictObject({
        method: z.literal('publicKey'),
        publicKey: z.string().max(16384).refine(isUsablePublicKey, 'must be a PEM public key (ECDSA P-256/384/521, RSA or Ed25519)'),
      }),
      z.strictObject({ method: z.literal('keyless'), identities: z.array(KeylessIdentity).min(1).max(100) }),
    ]),
  })
  .meta({ id: 'SignatureValidatorInput' });
export type SignatureValidatorInput = z.infer<typeof SignatureValidatorInput>;

export const SignatureValidator = SignatureValidatorInput.extend(Metadata.shape).meta({ id: 'SignatureValidator' });
export type SignatureValidator = z.infer<typeof SignatureValidator>;
