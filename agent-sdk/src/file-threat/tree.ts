import { readdir } from 'node:fs/promises';
import { posix } from 'node:path';

/** A container path (as the container sees it) to the host path under its root. */
export const hostPath = (root: string, path: string) => (path === '/' ? root : `${root}${path}`);

/**
 * Directories and regular files under a container path, depth first, as container paths. Symbolic links are not
 * followed (a container's link to `/etc` must not lead into the host's), other file types are left out, and so is
 * every path `skip` answers true for. Unreadable directories are reported through `onError` and passed over.
 */
export async function* walkTree(
  root: string,
  start: string,
  skip: (path: string) => boolean,
  onError: (path: string, err: Error) => void = () => undefined,
): AsyncGenerator<{ path: string; dir: boolean }> {
  const stack = [start];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    if (skip(dir)) continue;
    yield { path: dir, dir: true };
    let entries;
    try {
      // In name order: the same tree is walked (and watched, up to the limit) the same way every time.
      entries = (await readdir(hostPath(root, dir), { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (err) {
      onError(dir, err as Error);
      continue;
    }
    const subdirs: string[] = [];
    for (const e of entries) {
      const path = posix.join(dir, e.name);
      if (e.isDirectory()) subdirs.push(path);
      else if (e.isFile() && !skip(path)) yield { path, dir: false };
    }
    stack.push(...subdirs.reverse());
  }
}
