import type { Verdict } from '../scanner/types.ts';

/** What identifies a file's content without reading it: device, inode, size and modification time (ns). */
export interface FileIdentity {
  dev: bigint | number;
  ino: bigint | number;
  size: bigint | number;
  mtimeNs: bigint | number;
}

const keyOf = (f: FileIdentity) => `${f.dev}:${f.ino}:${f.size}:${f.mtimeNs}`;

/**
 * "Scan only new and modified": file identity → content digest → verdict, for one signature set. An unchanged file
 * (same identity) is not read again; a file with new identity but known content (a copy, a rewrite with the same
 * bytes) is hashed but not scanned. Only verdicts of whole reads are kept; `clear()` on a new signature set, since a
 * verdict holds only for the signatures it was reached with. Bounded: the oldest entries go first.
 *
 * @example
 * ```ts
 * const cache = new VerdictCache(1000);
 * cache.put(identity, digest, { verdict: 'clean' });
 * cache.byIdentity(identity); // { digest, verdict: { verdict: 'clean' } }
 * ```
 */
export class VerdictCache {
  readonly #digests = new Map<string, string>();
  readonly #verdicts = new Map<string, Verdict>();
  hits = 0;
  misses = 0;

  constructor(readonly max: number) {}

  get size(): number {
    return this.#verdicts.size;
  }

  /** The digest and verdict of an unchanged file, if known. */
  byIdentity(f: FileIdentity): { digest: string; verdict: Verdict } | undefined {
    const digest = this.#digests.get(keyOf(f));
    const verdict = digest === undefined ? undefined : this.#verdicts.get(digest);
    return verdict && digest ? { digest, verdict } : undefined;
  }

  byDigest(digest: string): Verdict | undefined {
    return this.#verdicts.get(digest);
  }

  put(f: FileIdentity, digest: string, verdict: Verdict): void {
    if (this.max === 0) return;
    bounded(this.#digests, keyOf(f), digest, this.max);
    bounded(this.#verdicts, digest, verdict, this.max);
  }

  /** Remembers a file's digest when its verdict is already known under that digest. */
  link(f: FileIdentity, digest: string): void {
    if (this.max > 0) bounded(this.#digests, keyOf(f), digest, this.max);
  }

  clear(): void {
    this.#digests.clear();
    this.#verdicts.clear();
  }
}

function bounded<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value!);
}
