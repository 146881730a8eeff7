import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import { addEvicted, advance, saveCursor, type DropCounts } from './cursor.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { RecordRef, SegmentMeta } from './spool-index.ts';
import { planAppend, SPOOL_DEFAULTS, type AppendPlan, type AppendResult, type SpoolBatch, type SpoolOptions } from './spool-policy.ts';
import { compactSegment, deleteDeadSegments, loadSpool, readRecords, type LoadReport, type SpoolState } from './spool-state.ts';

export type { SpoolBatch, SpoolOptions } from './spool-policy.ts';

interface Pending {
  events: AuditEventV1[];
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

/**
 * A durable, bounded, on-disk queue of audit events: a directory of append-only segment files plus `cursor.json`
 * (see `cursor.ts`, `record.ts`). `append` resolves once the events are fsynced: only then are they taken. Concurrent
 * appends are written together with one fsync. `readBatch` returns the oldest unacknowledged events; `ack` marks
 * them done (cursor first, durably), after which fully done segments are deleted. One writer per directory.
 *
 * @example
 * ```ts
 * const spool = await Spool.open('/var/lib/palisade/audit-spool');
 * await spool.append(events);
 * const batch = await spool.readBatch(500, 512 * 1024);
 * if (batch && (await upload(batch)).ok) await spool.ack(batch);
 * ```
 */
export class Spool {
  readonly #s: SpoolState;
  readonly #o: Required<SpoolOptions>;
  readonly #writer: SegmentWriter;
  #chain: Promise<unknown> = Promise.resolve();
  #queue: Pending[] = [];
  readonly #listeners = new Set<() => void>();
  #dirty = false;
  /** Evictions since the last save left segments to delete or compact. */
  #cleanup = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  private constructor(state: SpoolState, options: Required<SpoolOptions>, readonly loaded: LoadReport) {
    this.#s = state;
    this.#o = options;
    this.#writer = new SegmentWriter(state.dir, state.segments, options.segmentBytes);
  }

  static async open(dir: string, options: SpoolOptions = {}): Promise<Spool> {
    const o = { ...SPOOL_DEFAULTS, now: Date.now, ...options };
    const { tornBytes, corrupt, ...state } = await loadSpool(dir, o.now());
    return new Spool(state, o, { tornBytes, corrupt });
  }

  /** Writes the events durably, by the drop policy of `planAppend`; rejects (nothing taken) if the disk fails. */
  append(events: AuditEventV1[]): Promise<AppendResult> {
    if (this.#closed) return Promise.reject(new Error('the spool is closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ events, resolve, reject });
      if (this.#queue.length === 1) void this.#exclusive(() => this.#drain()).catch(() => undefined);
    });
  }

  /**
   * The oldest unacknowledged events after `afterSeq` (0: the oldest of all), at most `maxEvents` and `maxBytes` (at
   * least one); null when there is none. Everything up to the batch's last event stays pinned (never evicted) until
   * it is acknowledged, so a second batch read while the first is in flight keeps both.
   */
  readBatch(maxEvents: number, maxBytes: number, afterSeq = 0): Promise<SpoolBatch | null> {
    return this.#exclusive(async () => {
      const refs: RecordRef[] = [];
      let bytes = 0;
      for (const ref of this.#s.index.live()) {
        if (ref.seq <= afterSeq) continue;
        if (refs.length >= maxEvents || (refs.length > 0 && bytes + ref.length > maxBytes)) break;
        refs.push(ref);
        bytes += ref.length;
      }
      if (refs.length === 0) return null;
      const batch: SpoolBatch = { lastSeq: refs.at(-1)!.seq, bytes, ...(await readRecords(this.#s, refs)) };
      this.#s.index.pin(batch.lastSeq); // the batch in flight is never evicted
      return batch;
    });
  }

  /**
   * The server has the batch: marks it done, counting the events it refused (`rejected`, `tooLarge`) and those found
   * damaged, saves the cursor (fsync), then deletes segments with nothing left in them.
   */
  ack(batch: SpoolBatch, refused: { rejected?: number; tooLarge?: number } = {}): Promise<void> {
    return this.#exclusive(async () => {
      const { index, cursor, segments } = this.#s;
      if (batch.lastSeq <= cursor.ackedSeq) return; // already done
      for (const ref of index.removeThrough(batch.lastSeq)) this.#markDead(segments.get(ref.segment)!, ref);
      advance(cursor, batch.lastSeq);
      cursor.dropped.corrupt += batch.corrupt;
      cursor.dropped.rejected += refused.rejected ?? 0;
      cursor.dropped.tooLarge += refused.tooLarge ?? 0;
      await this.#save();
      await this.#deleteDead();
    });
  }

  /** Live events, their bytes, and when the oldest was appended (or loaded). */
  pending(): { events: number; bytes: number; oldestAt: number | null } {
    const { index } = this.#s;
    return { events: index.events, bytes: index.bytes, oldestAt: index.events > 0 ? (index.first()?.at ?? null) : null };
  }

  /** Calls `listener` after each append that took events; returns the unsubscribe function. */
  onAppend(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every drop since the spool was created, by reason (persisted across restarts). */
  dropped(): DropCounts {
    return { ...this.#s.cursor.dropped };
  }

  /** The drop counts an `agent` event last reported. */
  reported(): DropCounts {
    return { ...this.#s.cursor.reported };
  }

  markReported(counts: DropCounts): Promise<void> {
    return this.#exclusive(async () => {
      this.#s.cursor.reported = { ...counts };
      await this.#save();
    });
  }

  /** `indexSteps`: records the index has visited so far (its cost; tests assert it does not grow with the spool). */
  stats(): { events: number; bytes: number; segments: number; diskBytes: number; indexSteps: number } {
    const { index, segments } = this.#s;
    const diskBytes = [...segments.values()].reduce((sum, m) => sum + m.size, 0);
    return { events: index.events, bytes: index.bytes, segments: segments.size, diskBytes, indexSteps: index.steps };
  }

  /** Saves pending drop counts now. */
  flush(): Promise<void> {
    return this.#exclusive(async () => {
      if (this.#dirty) await this.#save();
      if (this.#cleanup) {
        this.#cleanup = false;
        await this.#deleteDead();
      }
    });
  }

  /** Waits for queued appends, saves the cursor, closes the open segment. Later appends are refused. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#exclusive(async () => {
      if (this.#dirty) await this.#save();
      if (this.#cleanup) await this.#deleteDead().catch(() => undefined);
      await this.#writer.close();
    });
  }

  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  /** Takes every queued append: one plan, one write, one fsync. Never throws: each caller gets its result or error. */
  async #drain(): Promise<void> {
    const calls = this.#queue.splice(0);
    const { index, cursor } = this.#s;
    let plan: AppendPlan | undefined;
    try {
      plan = planAppend(index, calls.map((c) => c.events), this.#o, this.#s.nextSeq);
      if (plan.lines.length > 0) await this.#write(plan);
    } catch (err) {
      if (plan) index.unevict(plan.evicted);
      if (plan) cursor.dropped.writeFailed += plan.planned.length;
      this.#markDirty();
      for (const call of calls) call.reject(err);
      return;
    }
    for (const [reason, n] of Object.entries(plan.drops)) cursor.dropped[reason as keyof DropCounts] += n;
    for (const ref of plan.evicted) {
      addEvicted(cursor, ref.seq);
      this.#markDead(this.#s.segments.get(ref.segment)!, ref);
    }
    cursor.dropped.evictedAudit += plan.evicted.length;
    advance(cursor, cursor.ackedSeq);
    calls.forEach((call, i) => call.resolve(plan.results[i]!));
    if (plan.planned.length > 0) for (const listener of this.#listeners) listener();
    if (Object.keys(plan.drops).length > 0 || plan.evicted.length > 0) this.#markDirty();
    // Evictions are saved with the drop counts, within `countFlushMs` (not once per append: the cursor's size grows
    // with the evicted ranges). A crash before that brings the evicted events back, which costs nothing but their
    // shipping. Segments they emptied are deleted (or compacted) after that save.
    if (plan.evicted.length > 0) this.#cleanup = true;
  }

  async #write(plan: AppendPlan): Promise<void> {
    this.#s.nextSeq = plan.planned.at(-1)!.seq + 1; // burnt even if the write fails: a partial tail may survive
    const { meta, offset } = await this.#writer.append(Buffer.concat(plan.lines), plan.planned[0]!.seq);
    const at = this.#o.now();
    let position = offset;
    for (const p of plan.planned) {
      this.#s.index.add({ seq: p.seq, segment: meta.id, offset: position, length: p.length, cls: p.cls, at });
      position += p.length;
      meta.live++;
    }
    meta.size = position;
  }

  #markDead(meta: SegmentMeta, ref: RecordRef): void {
    meta.live--;
    meta.deadBytes += ref.length;
  }

  /** Deletes empty segments (the open one too), and compacts closed ones that are mostly evicted records. */
  async #deleteDead(): Promise<void> {
    await this.#writer.closeIfEmpty();
    await deleteDeadSegments(this.#s);
    for (const meta of this.#s.segments.values()) if (meta.id !== this.#writer.id && meta.deadBytes * 2 > meta.size) await compactSegment(this.#s, meta);
  }

  async #save(): Promise<void> {
    this.#dirty = false;
    try {
      await saveCursor(this.#s.cursorPath, this.#s.cursor);
    } catch (err) {
      this.#markDirty();
      throw err;
    }
  }

  #markDirty(): void {
    this.#dirty = true;
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(() => this.#markDirty());
    }, this.#o.countFlushMs);
    this.#timer.unref?.();
  }
}
