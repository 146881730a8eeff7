import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Replaces `path` atomically: writes a temporary file beside it, fsyncs it, renames it over `path`, and fsyncs the
 * directory so the rename itself survives a power cut. Readers see the old file or the new one, never a torn one.
 * `beforeRename` runs once the temporary file is complete and synced (tests use it to crash there).
 *
 * @example
 * ```ts
 * await writeFileAtomic('/var/lib/palisade/credential', credential, 0o600);
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o644, hooks: AtomicWriteHooks = {}): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.chmod(mode); // the umask may have narrowed or widened nothing, but be explicit
      await file.sync();
    } finally {
      await file.close();
    }
    await hooks.beforeRename?.(tmp, path);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDirectory(dir);
}

/**
 * Removes the temporary files a writer of one of `names` (in `dir`) left when it died mid-write: those of processes
 * that are gone, and this process's own (a restarted container gets the same pid). Call it when no write is running.
 */
export async function removeLeftovers(dir: string, names: string[]): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    const m = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/.exec(entry);
    if (m && names.includes(m[1]!) && !alive(Number(m[2]))) await rm(join(dir, entry), { force: true });
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ').at(-1)?.[0] !== 'Z'; // a zombie writes nothing
  } catch {
    return true;
  }
}

export interface AtomicWriteHooks {
  beforeRename?: (tmp: string, path: string) => Promise<void>;
}

/** fsync a directory so a rename or unlink in it survives a crash. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    // Some platforms (Windows) and file systems cannot fsync a directory; the rename is as durable as they allow.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle?.close();
  }
}
