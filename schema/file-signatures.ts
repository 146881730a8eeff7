import { z } from 'zod';
import { parsePattern, PatternSyntaxError } from './file-signature-pattern.ts';

/**
 * File threat signatures in Palisade's own JSON format. A set holds hash signatures (the whole file's MD5 or SHA-256,
 * optionally with its size) and body signatures (a hex pattern at an offset, for files of a target type). ClamAV's
 * `.hdb`, `.hsb` and `.ndb` lines import into this format (see `clamav-import.ts`).
 */

export const SIGNATURE_SET_API_VERSION = 'palisade.dev/signatures/v1';

export const SignatureName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

const DIGEST_LENGTH = { md5: 32, sha256: 64 } as const;

export const HashSignature = z
  .strictObject({
    type: z.literal('hash'),
    name: SignatureName,
    algorithm: z.enum(['md5', 'sha256']),
    digest: z.string().regex(/^[0-9a-f]+$/, 'lower-case hex'),
    /** The file's size in bytes; null matches any size (ClamAV's `*`). */
    size: z.int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
  })
  .superRefine((s, ctx) => {
    if (s.digest.length !== DIGEST_LENGTH[s.algorithm]) {
      ctx.addIssue({ code: 'custom', path: ['digest'], message: `a ${s.algorithm} digest has ${DIGEST_LENGTH[s.algorithm]} hex digits` });
    }
  });
export type HashSignature = z.output<typeof HashSignature>;

/** Where a body pattern may start: anywhere, at `n`, within `n` to `n+m`, or `n` bytes before the end. */
export const SignatureOffset = z
  .string()
  .regex(/^(\*|\d{1,10}(,\d{1,10})?|EOF-\d{1,10})$/, 'one of `*`, `n`, `n,m` or `EOF-n`');

/** File types a body signature can be limited to (recognized by their magic bytes). */
export const SignatureTarget = z.enum(['any', 'pe', 'elf', 'macho']);
export type SignatureTarget = z.output<typeof SignatureTarget>;

export const BodySignature = z
  .strictObject({
    type: z.literal('body'),
    name: SignatureName,
    target: SignatureTarget.default('any'),
    offset: SignatureOffset.default('*'),
    pattern: z.string().min(1).max(8192),
  })
  .superRefine((s, ctx) => {
    try {
      parsePattern(s.pattern);
    } catch (err) {
      if (!(err instanceof PatternSyntaxError)) throw err;
      ctx.addIssue({ code: 'custom', path: ['pattern'], message: err.message });
    }
  });
export type BodySignature = z.output<typeof BodySignature>;

export const FileSignature = z.discriminatedUnion('type', [HashSignature, BodySignature]);
export type FileSignature = z.output<typeof FileSignature>;

export const SignatureSetDocument = z
  .strictObject({
    apiVersion: z.literal(SIGNATURE_SET_API_VERSION),
    name: z.string().min(1).max(200),
    signatures: z.array(FileSignature).max(200_000),
  })
  .meta({ id: 'SignatureSetDocument' });
export type SignatureSetDocument = z.output<typeof SignatureSetDocument>;

/** A parsed offset: `[start, end]` bytes from the beginning, or from the end when `fromEnd`. */
export interface Offset {
  anywhere: boolean;
  fromEnd: boolean;
  start: number;
  end: number;
}

export function parseOffset(offset: string): Offset {
  if (offset === '*') return { anywhere: true, fromEnd: false, start: 0, end: Infinity };
  if (offset.startsWith('EOF-')) {
    const n = Number(offset.slice(4));
    return { anywhere: false, fromEnd: true, start: n, end: n };
  }
  const [a, b] = offset.split(',');
  const start = Number(a);
  return { anywhere: false, fromEnd: false, start, end: start + (b === undefined ? 0 : Number(b)) };
}

/**
 * The EICAR test file's signature. Every set the agent loads contains it, so "is file threat protection working?" has
 * an answer on every node (https://www.eicar.org/download-anti-malware-testfile/).
 */
export const EICAR_SIGNATURE: BodySignature = {
  type: 'body',
  name: 'Eicar-Test-Signature',
  target: 'any',
  offset: '0',
  pattern: Array.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*', (ch) =>
    ch.charCodeAt(0).toString(16).padStart(2, '0'),
  ).join(''),
};
