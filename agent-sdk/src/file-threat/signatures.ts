import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { FileSignature } from '../../../schema/file-signatures.ts';
import { loadSignatureFiles } from '../scanner/signature-files.ts';

/** One signature set as the node scans with it; `version` changes whenever the signatures do. */
export interface SignatureSet {
  version: string;
  signatures: readonly FileSignature[];
}

/**
 * Where the node's File Threat Protection takes its signatures from. A new set invalidates the verdict cache and
 * starts a full scan of every covered container. Plug the distributed, signed sets in by implementing this.
 *
 * @example
 * ```ts
 * const source: SignatureSource = { current: () => set, subscribe: (fn) => (listeners.add(fn), () => listeners.delete(fn)) };
 * ```
 */
export interface SignatureSource {
  /** The set to scan with; undefined while none is loaded (scanning then uses EICAR alone). */
  current(): SignatureSet | undefined;
  /** Called with each new set; answers the unsubscribe function. */
  subscribe(fn: (set: SignatureSet) => void): () => void;
}

/**
 * Signature files on disk (`node.fileThreat.signatures`), read as `palisade-agent scan --signatures` reads them and
 * read again by `check()` when one's size or modification time changed. A file that fails to load keeps the last
 * good set and is reported through `onError`.
 *
 * @example
 * ```ts
 * const source = new FileSignatureSource(['/etc/palisade/sigs/main.ndb']);
 * await source.check();
 * source.current()?.signatures.length;
 * ```
 */
export class FileSignatureSource implements SignatureSource {
  #set: SignatureSet | undefined;
  #stamp = '';
  readonly #listeners = new Set<(set: SignatureSet) => void>();

  constructor(readonly files: readonly string[], private readonly onError: (err: Error) => void = () => undefined) {}

  current(): SignatureSet | undefined {
    return this.#set;
  }

  subscribe(fn: (set: SignatureSet) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Loads the files when they changed since the last load; answers whether a new set was published. */
  async check(): Promise<boolean> {
    try {
      const stamps = await Promise.all(this.files.map(async (f) => {
        const s = await stat(f);
        return `${f}:${s.size}:${s.mtimeMs}`;
      }));
      const stamp = stamps.join('\n');
      if (this.#set && stamp === this.#stamp) return false;
      const loaded = await loadSignatureFiles(this.files);
      const version = createHash('sha256').update(JSON.stringify(loaded.signatures)).digest('hex').slice(0, 16);
      this.#stamp = stamp;
      if (this.#set?.version === version) return false;
      this.#set = { version, signatures: loaded.signatures };
      for (const fn of this.#listeners) fn(this.#set);
      return true;
    } catch (err) {
      this.onError(err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }
}

/**
 * Several sources scanned as one set: the tenant's distributed set and any local signature files. The version names
 * every part, so a change in any of them is a new set (the verdict cache is dropped and covered containers rescanned).
 * `check()` is passed on to the parts that have one.
 *
 * @example
 * ```ts
 * const source = combinedSignatureSource([signatureSets.scanSource(), new FileSignatureSource(['/etc/palisade/extra.ndb'])]);
 * ```
 */
export function combinedSignatureSource(parts: readonly (SignatureSource & { check?(): Promise<unknown> })[]): SignatureSource & { check(): Promise<void> } {
  const listeners = new Set<(set: SignatureSet) => void>();
  let combined: SignatureSet | undefined;
  // Built again only when a part's version changed: current() is read often, the merged list can be large.
  const current = (): SignatureSet | undefined => {
    const sets = parts.map((p) => p.current());
    if (sets.every((set) => set === undefined)) return undefined;
    const version = sets.map((set) => set?.version ?? '-').join('+');
    if (combined?.version !== version) combined = { version, signatures: sets.flatMap((set) => set?.signatures ?? []) };
    return combined;
  };
  for (const part of parts) {
    part.subscribe(() => {
      const set = current();
      if (set) for (const fn of listeners) fn(set);
    });
  }
  return {
    current,
    subscribe(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    async check() {
      await Promise.all(parts.map((p) => p.check?.()));
    },
  };
}
