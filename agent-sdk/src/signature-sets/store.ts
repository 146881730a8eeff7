import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { removeLeftovers, writeFileAtomic, type AtomicWriteHooks } from '../node/atomic-write.ts';
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
    await removeLeftovers(this.dir, Object.values(SIGNATURE_FILES));
    const jws = await readOptional(join(this.dir, SIGNATURE_FILES.jws));
    if (jws === null) return null;
    let meta: unknown = null;
    try {
      meta = JSON.parse((await readOptional(join(this.dir, SIGNATURE_FILES.meta))) ?? 'null');
    } catch {
      // unreadable metadata costs the ETag only
    }
    const parsed = Meta.safeParse(meta);
    if (!parsed.success) return { jws, etag: null, version: 0, digest: '' };
    return { jws, etag: parsed.data.etag, version: parsed.data.version, digest: parsed.data.digest };
  }

  async save(set: PersistedSignatureSet): Promise<void> {
    await writeFileAtomic(join(this.dir, SIGNATURE_FILES.jws), set.jws, 0o600, this.hooks);
    const meta = { etag: set.etag, version: set.version, digest: set.digest, savedAt: new Date().toISOString() };
    await writeFileAtomic(join(this.dir, SIGNATURE_FILES.meta), JSON.stringify(meta, null, 2) + '\n', 0o600, this.hooks);
  }
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
