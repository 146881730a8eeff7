/**
 * What the agent keeps of the last good signature set, to scan with when the control plane is unreachable.
 *
 * @example
 * ```ts
 * const saved: PersistedSignatureSet = { jws, etag: '"7.3f2a..."', version: 7, digest: 'sha256:3f2a...' };
 * ```
 */
export interface PersistedSignatureSet {
  /** The compact JWS exactly as received; verified again on every load. */
  jws: string;
  /** Reused only when `digest` matches the re-verified JWS. */
  etag: string | null;
  version: number;
  digest: string;
}

/**
 * Where the last good set is kept. `save` is called only for a set that passed every check and must be atomic.
 *
 * @example
 * ```ts
 * const store: SignatureSetStore = { load: () => kv.get('signatures', 'json'), save: (s) => kv.put('signatures', JSON.stringify(s)) };
 * ```
 */
export interface SignatureSetStore {
  load(): Promise<PersistedSignatureSet | null>;
  save(set: PersistedSignatureSet): Promise<void>;
}

/**
 * A store in memory, for tests and agents that must not write to disk.
 *
 * @example
 * ```ts
 * const client = new SignatureSetClient({ ...settings, store: new MemorySignatureSetStore() });
 * ```
 */
export class MemorySignatureSetStore implements SignatureSetStore {
  #saved: PersistedSignatureSet | null;
  constructor(initial: PersistedSignatureSet | null = null) {
    this.#saved = initial;
  }
  load(): Promise<PersistedSignatureSet | null> {
    return Promise.resolve(this.#saved && { ...this.#saved });
  }
  save(set: PersistedSignatureSet): Promise<void> {
    this.#saved = { ...set };
    return Promise.resolve();
  }
}
