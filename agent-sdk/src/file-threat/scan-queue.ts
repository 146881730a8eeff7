import type { AuditFile } from '../../../schema/audit-event.ts';

export interface QueuedFile {
  /** The covered container's id. */
  target: string;
  /** The container path. */
  path: string;
  trigger: AuditFile['trigger'];
}

/**
 * Files waiting for a scan, one entry per container and path. A change notification waits `settleMs` after the last
 * change to the file before it is ready (a file being written is scanned once, when quiet); full scans are ready at
 * once and wait for room (`whenRoom`) instead of being dropped. Bounded by `capacity`: a change notification that
 * finds it full is refused, and the caller falls back to a full scan.
 */
export class ScanQueue {
  readonly #ready = new Map<string, QueuedFile>();
  readonly #settling = new Map<string, { file: QueuedFile; due: number }>();
  readonly #waiters: Array<() => void> = [];

  constructor(readonly capacity: number, private readonly settleMs: number, private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.#ready.size + this.#settling.size;
  }

  /** A change: (re)starts the file's settle time. False when the queue is full (the notification is lost). */
  changed(file: QueuedFile): boolean {
    const key = `${file.target}\0${file.path}`;
    if (this.#ready.has(key)) return true;
    if (!this.#settling.has(key) && this.size >= this.capacity) return false;
    this.#settling.delete(key);
    this.#settling.set(key, { file, due: this.now() + this.settleMs });
    return true;
  }

  /** A file of a full scan or a request: ready now. Call after `whenRoom()`. */
  add(file: QueuedFile): void {
    const key = `${file.target}\0${file.path}`;
    this.#settling.delete(key);
    if (!this.#ready.has(key)) this.#ready.set(key, file);
  }

  /** Resolves once there is room for one more file. */
  whenRoom(): Promise<void> {
    return this.size < this.capacity ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }

  /** The next file ready to scan: the oldest ready one, after moving settled changes (oldest first) to ready. */
  take(): QueuedFile | undefined {
    const now = this.now();
    for (const [key, s] of this.#settling) {
      // Settling entries are in order of their last change, so the first not yet due ends the pass.
      if (s.due > now) break;
      this.#settling.delete(key);
      this.#ready.set(key, s.file);
    }
    const first = this.#ready.entries().next();
    if (first.done) return undefined;
    this.#ready.delete(first.value[0]);
    while (this.#waiters.length > 0 && this.size < this.capacity) this.#waiters.shift()!();
    return first.value[1];
  }

  /** Forgets a container's files (it is gone). */
  dropTarget(target: string): void {
    for (const key of [...this.#ready.keys()]) if (key.startsWith(`${target}\0`)) this.#ready.delete(key);
    for (const key of [...this.#settling.keys()]) if (key.startsWith(`${target}\0`)) this.#settling.delete(key);
    while (this.#waiters.length > 0 && this.size < this.capacity) this.#waiters.shift()!();
  }

  /** Lets every full scan waiting for room go on (they then find their container gone, or the agent stopped). */
  release(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
}
