/**
 * Why a signed bundle was refused. Each code names the first check that failed, in the order `verifyBundle` runs them.
 */
export type BundleVerificationCode =
  | 'too_large'
  | 'malformed'
  | 'alg_not_allowed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'wrong_tenant'
  | 'wrong_cluster'
  | 'expired'
  | 'revision_rollback'
  | 'digest_mismatch'
  | 'schema_invalid';

/**
 * A bundle failed verification. `code` is stable and meant for programs; `message` is for people; `cause` carries
 * the underlying error (a jose or zod error) when there is one.
 *
 * @example
 * ```ts
 * try {
 *   await verifyBundle(jws, options);
 * } catch (err) {
 *   if (err instanceof BundleVerificationError && err.code === 'expired') console.warn('bundle expired');
 *   else throw err;
 * }
 * ```
 */
export class BundleVerificationError extends Error {
  override readonly name = 'BundleVerificationError';
  readonly code: BundleVerificationCode;

  constructor(code: BundleVerificationCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Shorthand used by the verification steps. */
export function reject(code: BundleVerificationCode, message: string, cause?: unknown): never {
  throw new BundleVerificationError(code, message, cause === undefined ? undefined : { cause });
}

/** A short, printable rendering of an untrusted value for error messages. */
export function shown(value: unknown): string {
  const text = value === undefined ? 'nothing' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
