import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { matchesMask } from '../../../schema/masks.ts';
import { scanBytes, type ScanResult } from './scan.ts';
import type { SignatureIndex } from './signature-index.ts';
import type { ScanOptions } from './types.ts';

/** Path exclusions as the settings give them: a path, everything under it, or a `*` mask. */
export function isExcluded(path: string, exclusions: readonly string[]): boolean {
  return exclusions.some((e) => path === e || path.startsWith(e.endsWith('/') ? e : `${e}/`) || (e.includes('*') && matchesMask(e, path)));
}

/** Regular files under `paths` (directories walked depth-first; symbolic links not followed), excluded paths left out. */
export async function* walkFiles(paths: readonly string[], exclusions: readonly string[] = []): AsyncGenerator<{ path: string; error?: string }> {
  for (const given of paths) {
    const path = resolve(given);
    if (isExcluded(path, exclusions)) continue;
    let stat;
    try {
      stat = await lstat(path);
    } catch (err) {
      yield { path: given, error: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message };
      continue;
    }
    if (stat.isDirectory()) {
      let names: string[];
      try {
        names = (await readdir(path)).sort();
      } catch (err) {
        yield { path: given, error: (err as Error).message };
        continue;
      }
      yield* walkFiles(names.map((n) => join(path, n)), exclusions);
    } else if (stat.isFile()) yield { path };
  }
}

/**
 * Scans one file from disk; one larger than the object limit is `limitExceeded(objectSize)` and is not read. A final
 * symbolic link is not followed (ELOOP) and a FIFO or device is refused without blocking on it: the node agent scans
 * paths inside containers, which a container can swap under it.
 */
export async function scanFile(index: SignatureIndex, options: ScanOptions, path: string, now?: () => number): Promise<ScanResult> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${path}: not a regular file`);
    const { size } = stat;
    if (size > options.limits.maxObjectBytes) {
      return { verdict: { verdict: 'limitExceeded', kind: 'objectSize', path: [path] }, detections: [], objects: 0, bytes: 0 };
    }
    const data = new Uint8Array(size);
    let read = 0;
    while (read < size) {
      const { bytesRead } = await handle.read(data, read, size - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return scanBytes(index, options, data.subarray(0, read), path, now);
  } finally {
    await handle.close();
  }
}
