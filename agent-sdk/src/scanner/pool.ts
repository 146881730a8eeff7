import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { FileSignature } from '../../../schema/file-signatures.ts';
import type { ScanResult } from './scan.ts';
import type { ScanOptions } from './types.ts';

interface Job {
  id: number;
  path: string;
  resolve: (result: ScanResult) => void;
  reject: (err: Error) => void;
}

/**
 * Scans files on several threads: each worker compiles the signature set once and takes the next queued path when
 * it is free. A worker that dies fails its job (the caller reports an `error` verdict, never `clean`) and is replaced.
 *
 * @example
 * const pool = new ScanPool(signatures, DEFAULT_SCAN_OPTIONS);
 * const results = await Promise.all(paths.map((p) => pool.scanFile(p)));
 * await pool.close();
 */
export class ScanPool {
  readonly #queue: Job[] = [];
  readonly #idle: Worker[] = [];
  readonly #busy = new Map<Worker, Job>();
  readonly #dead = new WeakSet<Worker>();
  /** Workers started and not yet ready: terminating one while it loads can leave a port open in this thread. */
  readonly #starting = new Map<Worker, Promise<void>>();
  #next = 0;
  #closed = false;
  /** Workers lost so far; past a few per thread the pool gives up instead of respawning forever. */
  #losses = 0;

  constructor(
    readonly signatures: readonly FileSignature[],
    readonly options: ScanOptions,
    readonly size = Math.max(1, availableParallelism()),
  ) {}

  scanFile(path: string): Promise<ScanResult> {
    if (this.#closed) return Promise.reject(new Error('the scan pool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ id: this.#next++, path, resolve, reject });
      // Threads start on demand, up to `size`: a one-file scan starts one.
      if (this.#idle.length === 0 && this.#busy.size + this.#starting.size < this.size) this.#spawn();
      this.#dispatch();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#starting.values());
    const workers = [...this.#idle, ...this.#busy.keys()];
    this.#idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #spawn(): void {
    const worker = new Worker(new URL('./pool-worker.mjs', import.meta.url), { workerData: { signatures: this.signatures, options: this.options } });
    let started!: () => void;
    this.#starting.set(worker, new Promise((resolve) => (started = resolve)));
    const ready = () => {
      this.#starting.delete(worker);
      started();
    };
    worker.once('exit', ready);
    worker.on('message', (message: { ready?: true; id?: number; result?: ScanResult; error?: string }) => {
      if (message.ready) {
        ready();
        this.#idle.push(worker);
        this.#dispatch();
        return;
      }
      const job = this.#busy.get(worker);
      this.#busy.delete(worker);
      if (job) {
        if (message.result) job.resolve(message.result);
        else job.reject(new Error(message.error ?? 'scan failed'));
      }
      this.#idle.push(worker);
      this.#dispatch();
    });
    worker.on('error', (err) => this.#lost(worker, err));
    worker.on('exit', (code) => {
      if (!this.#closed) this.#lost(worker, new Error(`scan worker exited with code ${code}`));
    });
  }

  #lost(worker: Worker, err: Error): void {
    if (this.#dead.has(worker)) return;
    this.#dead.add(worker);
    const job = this.#busy.get(worker);
    this.#busy.delete(worker);
    const idle = this.#idle.indexOf(worker);
    if (idle >= 0) this.#idle.splice(idle, 1);
    job?.reject(err);
    if (this.#closed) return;
    if (++this.#losses <= 3 * this.size) this.#spawn();
    else if (this.#idle.length === 0 && this.#busy.size === 0) {
      for (const queued of this.#queue.splice(0)) queued.reject(new Error(`no scan worker is left: ${err.message}`));
    }
  }

  #dispatch(): void {
    while (this.#idle.length > 0 && this.#queue.length > 0) {
      const worker = this.#idle.pop()!;
      const job = this.#queue.shift()!;
      this.#busy.set(worker, job);
      worker.postMessage({ id: job.id, path: job.path });
    }
  }
}
