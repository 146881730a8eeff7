import type { Context } from 'hono';
import { PalisadeError } from './errors.ts';

export const etagOf = (version: number) => `"${version}"`;

/**
 * Checks `If-Match` against the current version: absent or `*` passes, any listed tag that matches passes,
 * anything else is 412 (RFC 9110 §13.1.1, strong comparison).
 */
export function checkIfMatch(c: Context, version: number): void {
  const header = c.req.header('if-match');
  if (header === undefined || header.trim() === '*') return;
  const current = etagOf(version);
  const tags = header.split(',').map((t) => t.trim());
  if (!tags.includes(current)) {
    throw new PalisadeError('precondition_failed', `If-Match ${header} does not match the current ETag ${current}; read the object again`, {
      extensions: { currentEtag: current },
    });
  }
}
