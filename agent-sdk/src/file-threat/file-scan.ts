import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { ScanPool } from '../scanner/pool.ts';
import type { ScanOptions, Verdict } from '../scanner/types.ts';
import { VerdictCache, type FileIdentity } from './cache.ts';
import type { SignatureSet } from './signatures.ts';
import { identityOf } from './verify.ts';

export type FileScan =
  | { kind: 'gone' }
  | { kind: 'stale' }
  | { kind: 'scanned'; verdict: Verdict; identity: FileIdentity; size: number; digest?: string; cached: boolean };

/** Limits that depend on the machine's load or on a passing failure: such a verdict is worth trying again. */
const RETRY: ReadonlySet<string> = new Set(['scanTime', 'matchComplexity']);
const cacheable = (v: Verdict) => v.verdict !== 'error' && !(v.verdict === 'limitExceeded' && RETRY.has(v.kind));

/**
 * Scans files on the scan pool with one signature set and one set of options (a "generation"); a new set or new
 * options start a new pool and clear the verdict cache, and the old pool closes once its scans are done (their
 * results are answered `stale`, to be queued again). With `useCache` ("scan only new and modified"), an unchanged file
 * (device, inode, size, mtime) is not read, and known content (SHA-256) is not scanned again.
 */
export class FileScanner {
  readonly cache: VerdictCache;
  #pool: ScanPool | undefined;
  #generation = '';
  #inflight = new Map<ScanPool, number>();
  #retired = new Set<ScanPool>();

  constructor(cacheEntries: number, private readonly workers: number) {
    this.cache = new VerdictCache(cacheEntries);
  }

  get generation(): string {
    return this.#generation;
  }

  /** Switches to these signatures and options when they differ from the current ones; true when it did. */
  use(set: SignatureSet, options: ScanOptions): boolean {
    const generation = `${set.version}\0${JSON.stringify(options)}`;
    if (generation === this.#generation) return false;
    const old = this.#pool;
    this.#pool = new ScanPool(set.signatures, options, this.workers);
    this.#generation = generation;
    this.cache.clear();
    if (old) this.#retire(old);
    return true;
  }

  async scan(hostPath: string, useCache: boolean): Promise<FileScan> {
    const pool = this.#pool;
    if (!pool) return { kind: 'stale' };
    const generation = this.#generation;
    const stat = await lstat(hostPath, { bigint: true }).catch(() => undefined);
    if (!stat?.isFile()) return { kind: 'gone' };
    const identity = identityOf(stat);
    const size = Number(stat.size);
    let digest: string | undefined;
    if (useCache) {
      const known = this.cache.byIdentity(identity);
      if (known) return { kind: 'scanned', verdict: known.verdict, identity, size, digest: known.digest, cached: true };
      digest = await digestOf(hostPath).catch(() => undefined);
      if (digest === undefined) return { kind: 'gone' };
      const verdict = this.cache.byDigest(digest);
      if (verdict) {
        this.cache.link(identity, digest);
        return { kind: 'scanned', verdict, identity, size, digest, cached: true };
      }
    }
    this.#inflight.set(pool, (this.#inflight.get(pool) ?? 0) + 1);
    let verdict: Verdict;
    try {
      verdict = (await pool.scanFile(hostPath)).verdict;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/^(ENOENT|ELOOP)\b/.test(message)) return { kind: 'gone' };
      verdict = { verdict: 'error', message, path: [hostPath] };
    } finally {
      this.#inflight.set(pool, this.#inflight.get(pool)! - 1);
      if (this.#retired.has(pool)) this.#retire(pool);
    }
    if (generation !== this.#generation) return { kind: 'stale' };
    if (useCache && digest && cacheable(verdict)) this.cache.put(identity, digest, verdict);
    return { kind: 'scanned', verdict, identity, size, ...(digest ? { digest } : {}), cached: false };
  }

  async close(): Promise<void> {
    const pools = [this.#pool, ...this.#retired].filter((p) => p !== undefined);
    this.#pool = undefined;
    await Promise.all(pools.map((p) => p.close()));
  }

  #retire(pool: ScanPool): void {
    this.#retired.add(pool);
    if ((this.#inflight.get(pool) ?? 0) > 0) return;
    this.#retired.delete(pool);
    this.#inflight.delete(pool);
    void pool.close();
  }
}

/** `sha256:<hex>` of a regular file (not through a final link, not blocking on a FIFO). */
export async function digestOf(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    if (!(await handle.stat()).isFile()) throw new Error('not a regular file');
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
    return `sha256:${hash.digest('hex')}`;
  } finally {
    await handle.close();
  }
}
