import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import type { FileIdentity } from './cache.ts';
import { hostPath } from './tree.ts';

/** A file's identity from a bigint `stat`. */
export const identityOf = (s: BigIntStats): FileIdentity => ({ dev: s.dev, ino: s.ino, size: s.size, mtimeNs: s.mtimeNs });

const same = (a: FileIdentity, b: FileIdentity) => a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs;

/** Raised when the file on disk is no longer the one that was scanned (changed, replaced, or reached through a link). */
export class NotTheScannedFile extends Error {}

/**
 * The host path of a container file, checked to still be the file that was scanned: no directory on the way below the
 * container root is a symbolic link (a container could otherwise point an action at a host file: links resolve
 * against the agent's root, not the container's), and its identity is unchanged. Between this check and the action a
 * container can still swap a directory (nothing in Node does `openat2(RESOLVE_IN_ROOT)`); actions on open descriptors
 * (`openScanned`) do not have that gap.
 */
export async function checkedPath(root: string, path: string, scanned: FileIdentity): Promise<string> {
  const parts = path.split('/').filter(Boolean);
  for (let i = 1; i < parts.length; i++) {
    const dir = '/' + parts.slice(0, i).join('/');
    const s = await lstat(hostPath(root, dir));
    if (!s.isDirectory()) throw new NotTheScannedFile(`${dir} is no longer a directory`);
  }
  const full = hostPath(root, posix.normalize(path));
  const s = await lstat(full, { bigint: true });
  if (!s.isFile() || !same(identityOf(s), scanned)) throw new NotTheScannedFile(`${path} changed since it was scanned`);
  return full;
}

/** Opens the scanned file without following a final link or blocking on a FIFO, and checks it is that file. */
export async function openScanned(root: string, path: string, scanned: FileIdentity): Promise<FileHandle> {
  const full = await checkedPath(root, path, scanned);
  const handle = await open(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  const s = await handle.stat({ bigint: true });
  if (!s.isFile() || !same(identityOf(s), scanned)) {
    await handle.close();
    throw new NotTheScannedFile(`${path} changed since it was scanned`);
  }
  return handle;
}
