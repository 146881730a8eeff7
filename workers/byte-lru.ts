/**
 * A map bounded by the bytes its values hold, the least recently used going first. For caches of signed documents
 * that run to megabytes each (bundles, signature sets): a Workers isolate has 128 MB for everything, and a Node
 * server serving thousands of clusters must not keep every bundle it ever served. A value larger than the bound is
 * not kept at all.
 *
 * @example
 * ```ts
 * const cache = new ByteLru<string, string>(32 << 20);
 * cache.set(clusterId, jws, jws.length);
 * cache.get(clusterId); // the JWS, now the most recently used
 * ```
 */
export class ByteLru<K, V> {
  readonly #entries = new Map<K, { value: V; bytes: number }>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /** The value, marked as the most recently used. */
  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V, bytes: number): void {
    this.delete(key);
    if (bytes > this.maxBytes) return;
    this.#entries.set(key, { value, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#bytes <= this.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }

  /** The bytes held (as the callers counted them). */
  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#entries.size;
  }
}
