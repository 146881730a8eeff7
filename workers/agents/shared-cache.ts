/**
 * A cache shared by the instances of one place: the Workers Cache API (one per data center) on Workers, one object per
 * process on Node. Holds only what the database can rebuild; entries are checked against the database's change
 * markers before use (workers/agents/agent-state.ts), so losing or keeping one too long is never a correctness issue.
 * Values must be JSON-serializable and are treated as immutable by readers.
 */
export interface SharedCache {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown, ttlSeconds: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** The in-process implementation: a bounded map, oldest insertions dropped first. */
export class MemorySharedCache implements SharedCache {
  readonly #entries = new Map<string, { value: unknown; expiresAt: number }>();
  constructor(readonly maxEntries = 100_000, readonly now: () => number = Date.now) {}

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (hit.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit.value as T;
  }

  async put(key: string, value: unknown, ttlSeconds: number): Promise<void> {
    this.#entries.delete(key);
    this.#entries.set(key, { value, expiresAt: this.now() + ttlSeconds * 1000 });
    if (this.#entries.size > this.maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }
}

/** The parts of the Workers Cache API used here (typed locally: no Workers type package is installed). */
export interface WorkersCache {
  match(request: Request): Promise<Response | undefined>;
  put(request: Request, response: Response): Promise<void>;
  delete(request: Request): Promise<boolean>;
}

/**
 * The Workers Cache API as a SharedCache (`caches.default`): keys become URLs under a host that never resolves, so
 * nothing outside the Worker can read or fill them. Failures count as misses: the database answers instead.
 */
export function workersSharedCache(cache: WorkersCache, base = 'https://palisade-shared-cache.invalid/'): SharedCache {
  const request = (key: string) => new Request(base + encodeURIComponent(key));
  return {
    async get<T>(key: string) {
      try {
        const res = await cache.match(request(key));
        return res ? ((await res.json()) as T) : undefined;
      } catch {
        return undefined;
      }
    },
    async put(key, value, ttlSeconds) {
      await cache.put(request(key), new Response(JSON.stringify(value), { headers: { 'content-type': 'application/json', 'cache-control': `max-age=${Math.max(1, Math.floor(ttlSeconds))}` } })).catch(() => undefined);
    },
    async delete(key) {
      await cache.delete(request(key)).catch(() => false);
    },
  };
}
