import { z } from 'zod';
import type { AtomicWriteHooks } from '../node/atomic-write.ts';
import { loadJwsFiles, saveJwsFiles } from '../node/jws-files.ts';
import type { PersistedSignatureSet, SignatureSetStore } from './persisted.ts';

/**
 * File names inside the state directory.
 *
 * @example
 * ```ts
 * const jwsFile = join(stateDir, SIGNATURE_FILES.jws);
 * ```
 */
export const SIGNATURE_FILES = { jws: 'signatures.jws', meta: 'signatures.json' } as const;

const Meta = z.object({ etag: z.string().nullable(), version: z.int().min(1), digest: z.string(), savedAt: z.string() });

/**
 * Keeps the last good signature set in a state directory (Node only), as `FileBundleStore` keeps the bundle:
 * `signatures.jws` exactly as received, `signatures.json` its ETag, version and digest, each replaced with
 * write-then-rename (the JWS first). Nothing read back is trusted: the client verifies the JWS again before using it.
 *
 * @example
 * ```ts
 * const signatures = new SignatureSetClient({ ...settings, store: new FileSignatureSetStore('/var/lib/palisade/state') });
 * await signatures.restore(); // the last good set, before the control plane answers
 * ```
 */
export class FileSignatureSetStore implements SignatureSetStore {
  /** `hooks` apply to each file's replacement (tests use them to crash mid-write). */
  constructor(readonly dir: string, private readonly hooks: AtomicWriteHooks = {}) {}

  async load(): Promise<PersistedSignatureSet | null> {
    const stored = await loadJwsFiles(this.dir, SIGNATURE_FILES);
    if (stored === null) return null;
    const parsed = Meta.safeParse(stored.meta);
    if (!parsed.success) return { jws: stored.jws, etag: null, version: 0, digest: '' };
    return { jws: stored.jws, etag: parsed.data.etag, version: parsed.data.version, digest: parsed.data.digest };
  }

  async save(set: PersistedSignatureSet): Promise<void> {
    await saveJwsFiles(this.dir, SIGNATURE_FILES, set.jws, { etag: set.etag, version: set.version, digest: set.digest }, this.hooks);
  }
}
