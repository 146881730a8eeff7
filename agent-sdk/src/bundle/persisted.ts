/** What the agent keeps of the last good bundle, to start from when the control plane is unreachable. */
export interface PersistedBundle {
  /** The compact JWS exactly as received. It is verified again on every load. */
  jws: string;
  /** The ETag it came with; only reused when `digest` matches the re-verified JWS. */
  etag: string | null;
  revision: number;
  digest: string;
}

/**
 * Where the client keeps the last good bundle. `save` is called only after a bundle passed every check, and must be
 * atomic: after a crash, `load` returns either the old or the new bundle, never a mix.
 *
 * @example
 * ```ts
 * // a store in a Kubernetes Secret, a KV namespace, ...
 * const store: BundleStore = { load: () => kv.get('bundle', 'json'), save: (b) => kv.put('bundle', JSON.stringify(b)) };
 * ```
 */
export interface BundleStore {
  load(): Promise<PersistedBundle | null>;
  save(bundle: PersistedBundle): Promise<void>;
}

/**
 * A store in memory, for tests and for agents that must not write to disk.
 *
 * @example
 * ```ts
 * const store = new MemoryBundleStore();
 * const client = new BundleClient({ ...settings, store });
 * ```
 */
export class MemoryBundleStore implements BundleStore {
  private saved: PersistedBundle | null;

  constructor(initial: PersistedBundle | null = null) {
    this.saved = initial;
  }

  load(): Promise<PersistedBundle | null> {
    return Promise.resolve(this.saved === null ? null : { ...this.saved });
  }

  save(bundle: PersistedBundle): Promise<void> {
    this.saved = { ...bundle };
    return Promise.resolve();
  }
}
