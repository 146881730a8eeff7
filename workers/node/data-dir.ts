/**
 * The Node server's data directory: owner-only permissions and a lock so one server at a time opens it. Node-only,
 * used by `workers/node.ts` alone.
 */
import { chmodSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StartupError } from './startup-error.ts';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/**
 * Creates `dir` if needed and takes group and other access away from it and everything below it: the PGlite files
 * (`pg_wal` holds every secret written, webhook secrets and key hashes included), the signing keys. Symbolic links are
 * left alone and not followed, so a link inside the directory cannot make this chmod a file elsewhere.
 *
 * The directory's 0700 is what keeps other users out. PGlite (Emscripten's file system) chmods each file it creates
 * to 0666 whatever the umask, so its new files are open inside the closed directory until the next pass:
 * `keepDataDirSecure` repeats this after the database opens, every minute and at shutdown.
 */
export function secureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const walk = (path: string) => {
    // Undefined: removed since its directory was read (PGlite recycles WAL segments while running).
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (!stat || stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      if ((stat.mode & 0o777) !== DIR_MODE) chmodSync(path, DIR_MODE);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if ((stat.mode & 0o077) !== 0) {
      chmodSync(path, stat.mode & 0o700);
    }
  };
  walk(dir);
}

/** `secureDataDir` now and every `intervalMs` (on a timer that does not keep the process alive); returns a stop. */
export function keepDataDirSecure(dir: string, intervalMs = 60_000): () => void {
  secureDataDir(dir);
  const timer = setInterval(() => {
    try {
      secureDataDir(dir);
    } catch (err) {
      // A directory removed between readdir and chmod; the next pass sees the directory as it is then.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') console.error('palisade: securing the data directory failed', err);
    }
  }, intervalMs).unref();
  return () => {
    clearInterval(timer);
    secureDataDir(dir);
  };
}

/** Everything this process creates from now on is readable by its owner only (PGlite excepted, see `secureDataDir`). */
export function restrictUmask(): void {
  process.umask(0o077);
}

export const LOCK_FILE = 'palisade.lock';

export interface DataDirLock {
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

const locked = (dir: string, file: string, holder: number) =>
  new StartupError(
    'data_dir_locked',
    `the data directory ${dir} is in use by another Palisade server (pid ${holder}); stop it or set PALISADE_DATA_DIR to another directory (if no such server runs, delete ${file})`,
  );

/**
 * Takes `<dir>/palisade.lock` (created exclusively, holding this process's pid) or throws `data_dir_locked` when a
 * live process holds it. A lock left by a process that is gone (a crash, `kill -9`) is stale and taken over: it is
 * renamed aside and the lock created again. PGlite has no lock of its own, and two servers on one directory
 * corrupt it.
 */
export function lockDataDir(dir: string, pid = process.pid): DataDirLock {
  const file = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole under a private name, then linked into place: the lock never exists half-written, and link
    // fails if the lock exists, like an exclusive create.
    const mine = `${file}.${pid}`;
    writeFileSync(mine, `${pid}\n`, { mode: FILE_MODE });
    try {
      linkSync(mine, file);
      return {
        release: () => {
          if (readPid(file) === pid) rmSync(file, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      rmSync(mine, { force: true });
    }
    const holder = readPid(file);
    if (holder !== undefined && holder !== pid && alive(holder)) throw locked(dir, file, holder);
    // Stale: move it aside, atomically. Two starts racing here can both see
    // it stale; the one that moved a live lock aside (the other's fresh one) puts it back and gives way.
    const aside = `${file}.stale-${pid}`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    const moved = readPid(aside);
    if (moved !== undefined && moved !== holder && moved !== pid && alive(moved)) {
      try {
        linkSync(aside, file);
      } catch {
        // A third start took the lock meanwhile; it keeps it (a three-way race on a stale lock is not covered).
      } finally {
        rmSync(aside, { force: true });
      }
      throw locked(dir, file, moved);
    }
    rmSync(aside, { force: true });
  }
  throw new StartupError('data_dir_locked', `could not lock the data directory ${dir}: another server is starting on it`);
}
