import { watch, type FSWatcher } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { posix } from 'node:path';
import { hostPath, walkTree } from './tree.ts';

export interface TreeWatcherOptions {
  /** Container paths neither watched nor reported. */
  skip: (path: string) => boolean;
  /** Most directories watched; beyond, the rest of the tree is left to full scans (`limited` turns true). */
  maxWatches: number;
  /** A regular file was created, written, renamed in or had its attributes changed: its container path. */
  onFile: (path: string) => void;
  onError?: (path: string, err: Error) => void;
}

/**
 * inotify on a container's tree through one `fs.watch` per directory (Node's recursive mode follows symbolic links
 * and cannot be bounded). A directory that appears is watched, then walked, and every file already in it reported:
 * files written between its creation and its watch are not lost. What this cannot see, left to the periodic full
 * scan: events the kernel dropped when its queue overflowed (libuv does not surface `IN_Q_OVERFLOW`), directories past
 * `maxWatches` (or `fs.inotify.max_user_watches`), files changed while no watch existed (before the start, while the
 * agent was down), file systems mounted over a watched directory after the watch was set, and writes through
 * `mmap` that never reach `write(2)` events. Container paths throughout; `root` is the host path of `/`.
 */
export class TreeWatcher {
  readonly #watches = new Map<string, FSWatcher>();
  #closed = false;
  #exhausted = false;
  /** True once a directory was left unwatched for the watch limit. */
  limited = false;

  constructor(readonly root: string, private readonly o: TreeWatcherOptions) {}

  get watches(): number {
    return this.#watches.size;
  }

  /** Watches every directory under `/` (without reporting the files already there: the first full scan does). */
  async start(): Promise<void> {
    await this.#addTree('/', false);
  }

  close(): void {
    this.#closed = true;
    for (const w of this.#watches.values()) w.close();
    this.#watches.clear();
  }

  async #addTree(start: string, report: boolean): Promise<void> {
    for await (const entry of walkTree(this.root, start, this.o.skip, this.o.onError)) {
      if (this.#closed) return;
      if (entry.dir) this.#watch(entry.path);
      else if (report) this.o.onFile(entry.path);
    }
  }

  #watch(dir: string): void {
    if (this.#watches.has(dir)) return;
    if (this.#watches.size >= this.o.maxWatches || this.#exhausted) {
      this.limited = true;
      return;
    }
    try {
      const w = watch(hostPath(this.root, dir), { persistent: false }, (_type, name) => void this.#event(dir, name));
      w.on('error', (err) => (this.#unwatch(dir), this.o.onError?.(dir, err)));
      this.#watches.set(dir, w);
    } catch (err) {
      // The node's inotify watches (`fs.inotify.max_user_watches`) are used up: a limit like ours, reported once.
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') {
        this.#exhausted = true;
        this.limited = true;
      }
      this.o.onError?.(dir, err as Error);
    }
  }

  #unwatch(dir: string): void {
    for (const [path, w] of this.#watches) {
      if (path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`)) {
        w.close();
        this.#watches.delete(path);
      }
    }
  }

  async #event(dir: string, name: string | null): Promise<void> {
    if (this.#closed) return;
    // No name: the kernel reported something about the directory as a whole; report what is in it now.
    const path = name ? posix.join(dir, name) : dir;
    if (this.o.skip(path)) return;
    const stat = await lstat(hostPath(this.root, path)).catch(() => undefined);
    if (this.#closed) return;
    if (!stat) {
      if (this.#watches.has(path)) this.#unwatch(path);
    } else if (stat.isDirectory()) {
      if (!this.#watches.has(path) || !name) await this.#addTree(path, true);
    } else if (stat.isFile()) this.o.onFile(path);
  }
}
