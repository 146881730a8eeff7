import type { RecordClass } from './record.ts';

/** Where one live (not yet done) record is. */
export interface RecordRef {
  seq: number;
  /** The segment's id: the sequence number its name carries. */
  segment: number;
  offset: number;
  /** Bytes of the line, newline included. */
  length: number;
  cls: RecordClass;
  /** When it was appended (or loaded), ms since the epoch: batches go out by age. */
  at: number;
  evicted?: boolean;
}

export interface SegmentMeta {
  id: number;
  path: string;
  /** Bytes in the file. */
  size: number;
  /** Records in it not yet done. */
  live: number;
  /** Bytes of done records still in it. */
  deadBytes: number;
}

/** The live records in sequence order, with their totals; evicted ones stay in place, flagged, until passed. */
export class LiveIndex {
  #refs: RecordRef[] = [];
  #head = 0;
  /** No evictable record before this position. */
  #evictFrom = 0;
  events = 0;
  bytes = 0;

  add(ref: RecordRef): void {
    this.#refs.push(ref);
    this.events++;
    this.bytes += ref.length;
  }

  *live(): Generator<RecordRef> {
    for (let i = this.#head; i < this.#refs.length; i++) if (!this.#refs[i]!.evicted) yield this.#refs[i]!;
  }

  first(): RecordRef | undefined {
    return this.live().next().value;
  }

  /** The oldest audit-class record above `afterSeq`, flagged evicted and taken off the totals; none if there is none. */
  evictOldestAudit(afterSeq: number): RecordRef | undefined {
    if (this.#evictFrom < this.#head) this.#evictFrom = this.#head;
    for (let i = this.#evictFrom; i < this.#refs.length; i++) {
      const ref = this.#refs[i]!;
      if (ref.evicted || ref.cls !== 'a') {
        if (i === this.#evictFrom) this.#evictFrom++; // never evictable: skip it for good
        continue;
      }
      if (ref.seq <= afterSeq) continue; // pinned by the batch in flight
      if (i === this.#evictFrom) this.#evictFrom++;
      ref.evicted = true;
      this.events--;
      this.bytes -= ref.length;
      return ref;
    }
    return undefined;
  }

  /** Undoes evictions that did not make enough room after all. */
  unevict(refs: RecordRef[]): void {
    for (const ref of refs) {
      ref.evicted = false;
      this.events++;
      this.bytes += ref.length;
    }
    this.#evictFrom = this.#head;
  }

  /** Takes every record up to `seq` out of the index; returns those that were still live. */
  removeThrough(seq: number): RecordRef[] {
    const removed: RecordRef[] = [];
    while (this.#head < this.#refs.length && this.#refs[this.#head]!.seq <= seq) {
      const ref = this.#refs[this.#head++]!;
      if (ref.evicted) continue;
      removed.push(ref);
      this.events--;
      this.bytes -= ref.length;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#refs.length) {
      this.#refs.splice(0, this.#head);
      this.#evictFrom -= this.#head;
      this.#head = 0;
    }
    return removed;
  }

  /** Every reference (evicted ones too) into one segment, for compaction. */
  inSegment(id: number): RecordRef[] {
    return this.#refs.slice(this.#head).filter((r) => r.segment === id);
  }
}
