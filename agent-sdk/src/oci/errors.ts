/** Why a registry call failed. */
export type RegistryErrorCode =
  | 'unreachable'
  | 'deadline'
  | 'notFound'
  | 'unauthorized'
  | 'digestMismatch'
  | 'tooLarge'
  | 'badResponse'
  | 'badReference';

/**
 * A failed registry call, with a code the signature stage maps to a finding reason. Messages name the registry and
 * path, never credentials.
 *
 * @example
 * ```ts
 * try { await client.manifest(ref.registry, ref.repository, 'v1', signal); }
 * catch (err) { if (err instanceof RegistryError && err.code === 'notFound') ... }
 * ```
 */
export class RegistryError extends Error {
  constructor(readonly code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RegistryError';
  }
}
