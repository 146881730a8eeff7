import { gunzipSync } from 'node:zlib';
import Bunzip from 'seek-bzip';
import xzDecompress from 'xz-decompress';
import { ContainerError, type UnpackBudget } from '../types.ts';

/**
 * Single-stream compressors (gzip, bzip2, xz): one member, decompressed into at most the budget plus one byte, so a
 * bomb stops at the limit instead of filling memory. The ratio is checked on what came out.
 */

function cap(budget: UnpackBudget): { bytes: number; kind: 'objectSize' | 'totalSize' } {
  return budget.maxMemberBytes <= budget.remainingBytes
    ? { bytes: budget.maxMemberBytes, kind: 'objectSize' }
    : { bytes: budget.remainingBytes, kind: 'totalSize' };
}

function accept(out: Uint8Array, packed: number, budget: UnpackBudget, format: string): Uint8Array {
  if (packed > 0 && out.length / packed > budget.maxCompressionRatio) {
    throw new ContainerError('limit', `${format} content expands ${Math.round(out.length / packed)}x`, 'compressionRatio');
  }
  budget.remainingBytes -= out.length;
  budget.remainingEntries -= 1;
  return out;
}

export function gunzip(data: Uint8Array, budget: UnpackBudget): Uint8Array {
  const limit = cap(budget);
  try {
    return accept(gunzipSync(data, { maxOutputLength: limit.bytes + 1 }), data.length, budget, 'gzip');
  } catch (err) {
    if (err instanceof ContainerError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new ContainerError('limit', `gzip content exceeds ${limit.bytes} bytes`, limit.kind);
    }
    throw new ContainerError('corrupt', `gzip: ${(err as Error).message}`, undefined, { cause: err });
  }
}

class CappedOutput {
  readonly #chunks: Uint8Array[] = [];
  #current = new Uint8Array(64 * 1024);
  #used = 0;
  total = 0;
  constructor(readonly max: number) {}
  writeByte(byte: number): void {
    if (++this.total > this.max) throw new ContainerError('limit', `bzip2 content exceeds ${this.max} bytes`);
    if (this.#used === this.#current.length) {
      this.#chunks.push(this.#current);
      this.#current = new Uint8Array(Math.min(this.#current.length * 2, 16 * 1024 * 1024));
      this.#used = 0;
    }
    this.#current[this.#used++] = byte;
  }
  bytes(): Uint8Array {
    return Buffer.concat([...this.#chunks, this.#current.subarray(0, this.#used)]);
  }
}

export function bunzip2(data: Uint8Array, budget: UnpackBudget): Uint8Array {
  const limit = cap(budget);
  const out = new CappedOutput(limit.bytes);
  try {
    Bunzip.decode(Buffer.from(data.buffer, data.byteOffset, data.byteLength), out, true);
  } catch (err) {
    if (err instanceof ContainerError) throw new ContainerError('limit', err.message, limit.kind);
    throw new ContainerError('corrupt', `bzip2: ${String((err as Error).message ?? err)}`, undefined, { cause: err });
  }
  return accept(out.bytes(), data.length, budget, 'bzip2');
}

export async function unxz(data: Uint8Array, budget: UnpackBudget): Promise<Uint8Array> {
  const limit = cap(budget);
  const input = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(data);
      controller.close();
    },
  });
  // xz-decompress is a CommonJS bundle: its exports arrive on the default import under Node's ESM loader.
  const reader = new xzDecompress.XzReadableStream(input).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > limit.bytes) {
        await reader.cancel();
        throw new ContainerError('limit', `xz content exceeds ${limit.bytes} bytes`, limit.kind);
      }
      chunks.push(value);
    }
  } catch (err) {
    if (err instanceof ContainerError) throw err;
    throw new ContainerError('corrupt', `xz: ${String((err as Error)?.message ?? err)}`, undefined, { cause: err });
  }
  return accept(Buffer.concat(chunks), data.length, budget, 'xz');
}
