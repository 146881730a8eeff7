import { z } from 'zod';
import type { AtomicWriteHooks } from '../node/atomic-write.ts';
import { loadJwsFiles, saveJwsFiles } from '../node/jws-files.ts';
import type { BundleStore, PersistedBundle } from './persisted.ts';

/**
 * File names inside the state directory.
 *
 * @example
 * ```ts
 * const jwsFile = join(stateDir, STATE_FILES.jws); // palisade-agent bundle verify --trust jwks.json <jwsFile>
 * ```
 */
export const STATE_FILES = { jws: 'bundle.jws', meta: 'bundle.json' } as const;

const Meta = z.object({ etag: z.string().nullable(), revision: z.int().min(1), digest: z.string(), savedAt: z.string() });

/**
 * Keeps the last good bundle in a state directory (Node only): `bundle.jws` holds the compact JWS exactly as received
 * (so `palisade-agent bundle verify` can check it offline) and `bundle.json` its ETag, revision and digest. Each file
 * is replaced with write-then-rename, the JWS first.
 *
 * Loading does not trust the files: the client verifies the JWS again against the trust anchor before using it, and
 * reuses the ETag only when the digest in `bundle.json` matches the verified JWS (a crash between the two renames
 * costs one full download, nothing more). A stored bundle that has expired is still loaded, as last known good, and
 * reported as expired: with the control plane down, enforcing the last policies beats enforcing none.
 *
 * @example
 * ```ts
 * const client = new BundleClient({ ...settings, store: new FileBundleStore('/var/lib/palisade/state') });
 * await client.restore(); // the last good bundle, before the control plane answers
 * ```
 */
export class FileBundleStore implements BundleStore {
  /** `hooks` apply to each file's replacement (tests use them to crash mid-write). */
  constructor(readonly dir: string, private readonly hooks: AtomicWriteHooks = {}) {}

  /** Also removes what a save killed mid-write left behind (the stored files themselves are whole either way). */
  async load(): Promise<PersistedBundle | null> {
    const stored = await loadJwsFiles(this.dir, STATE_FILES);
    if (stored === null) return null;
    const meta = Meta.safeParse(stored.meta);
    // Without usable metadata the JWS is still worth verifying; it is only the ETag that is lost.
    if (!meta.success) return { jws: stored.jws, etag: null, revision: 0, digest: '' };
    return { jws: stored.jws, etag: meta.data.etag, revision: meta.data.revision, digest: meta.data.digest };
  }

  async save(bundle: PersistedBundle): Promise<void> {
    await saveJwsFiles(this.dir, STATE_FILES, bundle.jws, { etag: bundle.etag, revision: bundle.revision, digest: bundle.digest }, this.hooks);
  }
}
