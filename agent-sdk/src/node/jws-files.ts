import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { removeLeftovers, writeFileAtomic, type AtomicWriteHooks } from './atomic-write.ts';

/** A signed document kept in a state directory: the compact JWS as received, and a JSON file of what goes with it. */
export interface JwsFileNames {
  jws: string;
  meta: string;
}

/**
 * Reads a stored JWS and its metadata (Node only); null without the JWS. Metadata that cannot be read or parsed comes
 * back as `null` (it only costs the ETag: the JWS is verified again anyway). Removes what a save killed mid-write left.
 *
 * @example
 * ```ts
 * const stored = await loadJwsFiles('/var/lib/palisade/state', { jws: 'bundle.jws', meta: 'bundle.json' });
 * ```
 */
export async function loadJwsFiles(dir: string, names: JwsFileNames): Promise<{ jws: string; meta: unknown } | null> {
  await removeLeftovers(dir, [names.jws, names.meta]);
  const jws = await readOptional(join(dir, names.jws));
  if (jws === null) return null;
  let meta: unknown = null;
  try {
    meta = JSON.parse((await readOptional(join(dir, names.meta))) ?? 'null');
  } catch {
    // unreadable metadata costs the ETag only
  }
  return { jws, meta };
}

/**
 * Replaces both files with write-then-rename (0600), the JWS first: a crash between the renames leaves metadata that
 * does not match the JWS, which costs one full download, nothing more.
 *
 * @example
 * ```ts
 * await saveJwsFiles(dir, { jws: 'bundle.jws', meta: 'bundle.json' }, jws, { etag, revision, digest });
 * ```
 */
export async function saveJwsFiles(dir: string, names: JwsFileNames, jws: string, meta: object, hooks: AtomicWriteHooks = {}): Promise<void> {
  await writeFileAtomic(join(dir, names.jws), jws, 0o600, hooks);
  await writeFileAtomic(join(dir, names.meta), JSON.stringify({ ...meta, savedAt: new Date().toISOString() }, null, 2) + '\n', 0o600, hooks);
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
