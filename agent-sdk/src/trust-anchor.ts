import { z } from 'zod';
import type { JWKS } from './bundle/jws.ts';
import { formatIssues } from './format-issues.ts';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];

/**
 * A trust anchor: a non-empty JWKS of public keys, each with a `kid`. Private key material is refused outright.
 *
 * @example
 * ```ts
 * TrustAnchor.safeParse(await (await fetch(`${url}/.well-known/jwks.json`)).json()).success;
 * ```
 */
export const TrustAnchor = z
  .object({ keys: z.array(z.looseObject({ kty: z.string(), kid: z.string().min(1) })).min(1) })
  .superRefine((jwks, ctx) => {
    jwks.keys.forEach((key, i) => {
      const secret = PRIVATE_MEMBERS.find((m) => m in key);
      if (secret !== undefined) ctx.addIssue({ code: 'custom', path: ['keys', i, secret], message: 'a trust anchor holds public keys only' });
    });
  });

/**
 * Parses a trust anchor, throwing a readable error.
 *
 * @example
 * ```ts
 * const trust = parseTrustAnchor(JSON.parse(await readFile('jwks.json', 'utf8')));
 * ```
 */
export function parseTrustAnchor(value: unknown): JWKS {
  const parsed = TrustAnchor.safeParse(value);
  if (!parsed.success) throw new Error(`not a JWKS of public keys: ${formatIssues(parsed.error)}`);
  return parsed.data as JWKS;
}
