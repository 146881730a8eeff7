import type { FileHandle } from 'node:fs/promises';
import { createSegment, segmentPath, truncateDurably, writeDurably } from './segment-files.ts';
import type { SegmentMeta } from './spool-index.ts';

/** The one open segment of a spool: appends go here until it reaches `segmentBytes`, then a new one starts. */
export class SegmentWriter {
  #active: { meta: SegmentMeta; handle: FileHandle } | null = null;

  constructor(
    private readonly dir: string,
    private readonly segments: Map<number, SegmentMeta>,
    private readonly segmentBytes: number,
  ) {}

  get id(): number | undefined {
    return this.#active?.meta.id;
  }

  /**
   * Appends `bytes` durably (write, then fdatasync) to the open segment, or to a new one named `firstSeq` when there
   * is none or it is full; returns the segment and the offset written at. On failure the segment is cut back to its
   * previous size, or abandoned (closed) if even that fails, so no torn bytes sit before later records.
   */
  async append(bytes: Uint8Array, firstSeq: number): Promise<{ meta: SegmentMeta; offset: number }> {
    if (this.#active && this.#active.meta.size >= this.segmentBytes) await this.close();
    if (this.#active === null) {
      const meta: SegmentMeta = { id: firstSeq, path: segmentPath(this.dir, firstSeq), size: 0, live: 0, deadBytes: 0 };
      this.#active = { meta, handle: await createSegment(this.dir, firstSeq) };
      this.segments.set(firstSeq, meta);
    }
    const { meta, handle } = this.#active;
    try {
      await writeDurably(handle, bytes, meta.size);
    } catch (err) {
      await truncateDurably(meta.path, meta.size).catch(() => this.close());
      throw err;
    }
    return { meta, offset: meta.size };
  }

  /** Closes the open segment if nothing in it is live any more (so that it can be deleted). */
  async closeIfEmpty(): Promise<void> {
    if (this.#active?.meta.live === 0) await this.close();
  }

  async close(): Promise<void> {
    const active = this.#active;
    this.#active = null;
    await active?.handle.close().catch(() => undefined);
  }
}
