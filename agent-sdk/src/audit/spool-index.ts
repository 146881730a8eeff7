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

/**
 * The live records in sequence order, with their totals; evicted ones stay in place, flagged, until passed. Every
 * operation is O(1) amortized in the number of records held (a full spool must not make appends slower, see
 * issue 12): audit-class records also sit in their own FIFO, so eviction never scans the blocked ones; the totals of
 * what may be evicted are kept, so "can eviction make room?" is answered without evicting anything; the head skips
 * evicted records once. `steps` counts the records visited, so tests can assert that cost does not grow with size.
 */
export class LiveIndex {
  #refs: RecordRef[] = [];
  #head = 0;
  /** Audit-class records in sequence order; before `#auditHead` all are done. */
  #audit: RecordRef[] = [];
  #auditHead = 0;
  /** Position in `#audit` where the search for the oldest evictable record resumes (records before it are done or pinned). */
  #evictAt = 0;
  /** Records up to this sequence number are in the batch in flight: never evicted. */
  #pinned = 0;
  #pinnedAudit = { events: 0, bytes: 0 };
  #removedThrough = 0;
  events = 0;
  bytes = 0;
  /** Live audit-class records and their bytes. */
  auditEvents = 0;
  auditBytes = 0;
  /** Records visited by the index's loops since it was made (a cost counter for tests and benchmarks). */
  steps = 0;

  add(ref: RecordRef): void {
    this.#refs.push(ref);
    this.events++;
    this.bytes += ref.length;
    if (ref.cls === 'a') {
      this.#audit.push(ref);
      this.auditEvents++;
      this.auditBytes += ref.length;
    }
  }

  *live(): Generator<RecordRef> {
    for (let i = this.#head; i < this.#refs.length; i++) {
      this.steps++;
      if (!this.#refs[i]!.evicted) yield this.#refs[i]!;
    }
  }

  first(): RecordRef | undefined {
    this.#skipEvictedHead();
    return this.#refs[this.#head];
  }

  /** Pins the records up to `seq` (the batch in flight: never evicted); 0 unpins. Costs the size of the batch. */
  pin(seq: number): void {
    this.#pinned = seq;
    this.#pinnedAudit = { events: 0, bytes: 0 };
    for (let i = this.#auditHead; i < this.#audit.length && this.#audit[i]!.seq <= seq; i++) {
      this.steps++;
      const ref = this.#audit[i]!;
      if (ref.evicted) continue;
      this.#pinnedAudit.events++;
      this.#pinnedAudit.bytes += ref.length;
    }
    this.#evictAt = this.#auditHead;
  }

  /** What evicting every audit-class record not pinned would free. */
  evictable(): { events: number; bytes: number } {
    return { events: this.auditEvents - this.#pinnedAudit.events, bytes: this.auditBytes - this.#pinnedAudit.bytes };
  }

  /** The oldest audit-class record not pinned, flagged evicted and taken off the totals; none if there is none. */
  evictOldestAudit(): RecordRef | undefined {
    while (this.#evictAt < this.#audit.length) {
      this.steps++;
      const ref = this.#audit[this.#evictAt++]!;
      if (ref.evicted || ref.seq <= this.#removedThrough || ref.seq <= this.#pinned) continue;
      ref.evicted = true;
      this.events--;
      this.bytes -= ref.length;
      this.auditEvents--;
      this.auditBytes -= ref.length;
      return ref;
    }
    return undefined;
  }

  /** Undoes evictions (a failed write). Rare: the next eviction search starts over from the oldest audit record. */
  unevict(refs: RecordRef[]): void {
    for (const ref of refs) {
      ref.evicted = false;
      this.events++;
      this.bytes += ref.length;
      this.auditEvents++;
      this.auditBytes += ref.length;
    }
    this.#evictAt = this.#auditHead;
    // The head may have skipped them: step back over records not yet removed.
    while (this.#head > 0 && this.#refs[this.#head - 1]!.seq > this.#removedThrough) this.#head--;
  }

  /** Takes every record up to `seq` out of the index; returns those that were still live. */
  removeThrough(seq: number): RecordRef[] {
    const removed: RecordRef[] = [];
    while (this.#head < this.#refs.length && this.#refs[this.#head]!.seq <= seq) {
      this.steps++;
      const ref = this.#refs[this.#head++]!;
      if (ref.evicted) continue;
      removed.push(ref);
      this.events--;
      this.bytes -= ref.length;
      if (ref.cls === 'a') {
        this.auditEvents--;
        this.auditBytes -= ref.length;
      }
    }
    this.#removedThrough = Math.max(this.#removedThrough, seq);
    while (this.#auditHead < this.#audit.length && this.#audit[this.#auditHead]!.seq <= seq) this.#auditHead++;
    if (this.#evictAt < this.#auditHead) this.#evictAt = this.#auditHead;
    // A later batch still in flight stays pinned; what it pins is counted again without the records just removed.
    this.pin(this.#pinned <= seq ? 0 : this.#pinned);
    this.#skipEvictedHead();
    if (this.#head > 1024 && this.#head * 2 > this.#refs.length) {
      this.#refs.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#auditHead > 1024 && this.#auditHead * 2 > this.#audit.length) {
      this.#audit.splice(0, this.#auditHead);
      this.#evictAt -= this.#auditHead;
      this.#auditHead = 0;
    }
    return removed;
  }

  /** Every reference (evicted ones too) into one segment, for compaction: segments hold consecutive sequence numbers. */
  inSegment(id: number): RecordRef[] {
    let lo = this.#head;
    let hi = this.#refs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      this.steps++;
      if (this.#refs[mid]!.seq < id) lo = mid + 1;
      else hi = mid;
    }
    const out: RecordRef[] = [];
    for (let i = lo; i < this.#refs.length && this.#refs[i]!.segment === id; i++) out.push(this.#refs[i]!);
    this.steps += out.length;
    return out;
  }

  /** Evicted records at the head are done: passed once, so `first()` stays O(1). */
  #skipEvictedHead(): void {
    while (this.#head < this.#refs.length && this.#refs[this.#head]!.evicted) {
      this.steps++;
      this.#head++;
    }
  }
}
