type Listener = () => void;

/**
 * In-process notice that a tenant's data changed (after commit). Caches drop what they hold for the tenant and long
 * polls wake up. Other instances learn of changes through the database: the `stale` flag and the tenant's change marker.
 */
export class ChangeFeed {
  #listeners = new Map<string, Set<Listener>>();
  #generation = new Map<string, number>();
  #subscribers: Array<(tenantId: string) => void> = [];

  tenantChanged(tenantId: string): void {
    this.#generation.set(tenantId, this.generation(tenantId) + 1);
    for (const subscriber of this.#subscribers) subscriber(tenantId);
    for (const listener of this.#listeners.get(tenantId) ?? []) listener();
  }

  /** Calls `fn` with the tenant at every change (caches of this process). */
  subscribe(fn: (tenantId: string) => void): void {
    this.#subscribers.push(fn);
  }

  /** Rises with every change of the tenant; a cache entry remembers the generation it was read at. */
  generation(tenantId: string): number {
    return this.#generation.get(tenantId) ?? 0;
  }

  /** Resolves at the next change of the tenant or when `signal` aborts. */
  next(tenantId: string, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#listeners.get(tenantId) ?? new Set();
      this.#listeners.set(tenantId, set);
      const done = () => {
        set.delete(done);
        if (set.size === 0) this.#listeners.delete(tenantId);
        signal.removeEventListener('abort', done);
        resolve();
      };
      set.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
