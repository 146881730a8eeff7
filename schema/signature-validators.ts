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

const Base64 = z.string().min(1).max(65_536).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const Validity = z.looseObject({ start: z.iso.datetime({ offset: true }), end: z.iso.datetime({ offset: true }).nullish() });
const CertChain = z.looseObject({ certificates: z.array(z.looseObject({ rawBytes: Base64 })).min(1).max(10) });
const Authority = z.looseObject({ certChain: CertChain, validFor: Validity });
const LogKey = z.looseObject({
  publicKey: z.looseObject({ rawBytes: Base64, keyDetails: z.string().min(1).max(100), validFor: Validity }),
  logId: z.looseObject({ keyId: Base64 }),
});

/**
 * A Sigstore `trusted_root.json` (sigstore/protobuf-specs `TrustedRoot`, JSON form) for a private Sigstore deployment:
 * the Fulcio CAs that issue signing certificates, and the transparency logs and timestamp authorities whose
 * timestamps prove a certificate was valid when it signed. Keyless verification needs a timestamp, so a root must
 * name at least one transparency log or timestamp authority. Unknown members are kept (newer spec versions).
 */
export const TrustedRootDocument = z
  .looseObject({
    mediaType: z.string().regex(/^application\/vnd\.dev\.sigstore\.trustedroot(\.v0\.\d+)?\+json(;version=0\.\d+)?$/, 'must be a Sigstore trusted root media type'),
    tlogs: z.array(LogKey).max(50).default([]),
    certificateAuthorities: z.array(Authority).min(1).max(50),
    ctlogs: z.array(LogKey).max(50).default([]),
    timestampAuthorities: z.array(Authority).max(50).default([]),
  })
  .refine((r) => r.tlogs.length + r.timestampAuthorities.length > 0, {
    path: ['tlogs'],
    message: 'name at least one transparency log or timestamp authority (keyless verification needs a timestamp)',
  });
export type TrustedRootDocument = z.infer<typeof TrustedRootDocument>;

/**
 * A Fulcio certificate identity: issuer and subject, each exact or a regular expression (cosign's
 * --certificate-identity-regexp). A regular expression must match the whole value (it is anchored), unlike cosign's,
 * so `https://github.com/acme/` cannot be satisfied by `https://github.com/acme/.evil.example`.
 */
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
        /** Verifies the transparency-log entries and timestamps a keyed bundle carries; the public-good root when absent. */
        trustedRoot: TrustedRootDocument.optional(),
      }),
      z.strictObject({
        method: z.literal('keyless'),
        identities: z.array(KeylessIdentity).min(1).max(100),
        /** A private Sigstore deployment's root; Sigstore's public-good root (shipped with the agent) when absent. */
        trustedRoot: TrustedRootDocument.optional(),
      }),
    ]),
    /**
     * When the registry cannot be reached or the deadline passes during verification in an Enforce-mode policy:
     * `deny` (the default when absent: fail closed) or `warn` (admit with a warning; the audit event still records the error).
     */
    onRegistryError: z.enum(['deny', 'warn']).optional(),
  })
  .meta({ id: 'SignatureValidatorInput' });
export type SignatureValidatorInput = z.infer<typeof SignatureValidatorInput>;

export const SignatureValidator = SignatureValidatorInput.extend(Metadata.shape).meta({ id: 'SignatureValidator' });
export type SignatureValidator = z.infer<typeof SignatureValidator>;
