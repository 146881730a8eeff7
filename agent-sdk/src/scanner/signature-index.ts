import { createHash } from 'node:crypto';
import { EICAR_SIGNATURE, type BodySignature, type FileSignature, type HashSignature } from '../../../schema/file-signatures.ts';
import { BodyMatcher } from './body-matcher.ts';

/**
 * A signature set compiled for scanning: hash signatures indexed by size and digest, body signatures in one
 * `BodyMatcher`. EICAR is always included. Build it once per signature-set version.
 */
export class SignatureIndex {
  readonly body: BodyMatcher;
  readonly #hashes = { md5: new Map<string, HashSignature[]>(), sha256: new Map<string, HashSignature[]>() };
  /** Sizes some hash signature names, per algorithm; `anySize` when one names no size (then every file is hashed). */
  readonly #sizes = { md5: new Set<number>(), sha256: new Set<number>() };
  readonly #anySize = { md5: false, sha256: false };
  readonly count: number;

  constructor(signatures: readonly FileSignature[]) {
    const body: BodySignature[] = [EICAR_SIGNATURE];
    for (const s of signatures) {
      if (s.type === 'body') {
        body.push(s);
        continue;
      }
      const list = this.#hashes[s.algorithm].get(s.digest) ?? [];
      list.push(s);
      this.#hashes[s.algorithm].set(s.digest, list);
      if (s.size === null) this.#anySize[s.algorithm] = true;
      else this.#sizes[s.algorithm].add(s.size);
    }
    this.body = new BodyMatcher(body);
    this.count = signatures.length + 1;
  }

  /** Names of the hash signatures the whole of `data` matches. Hashes only when some signature could match its size. */
  hashMatches(data: Uint8Array): string[] {
    const names: string[] = [];
    for (const algorithm of ['md5', 'sha256'] as const) {
      if (!this.#anySize[algorithm] && !this.#sizes[algorithm].has(data.length)) continue;
      const digest = createHash(algorithm).update(data).digest('hex');
      for (const s of this.#hashes[algorithm].get(digest) ?? []) {
        if (s.size === null || s.size === data.length) names.push(s.name);
      }
    }
    return names;
  }
}
