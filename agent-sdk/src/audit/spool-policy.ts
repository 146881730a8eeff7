import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { DropCounts, DropReason } from './cursor.ts';
import { classOf, encodeRecord, type RecordClass } from './record.ts';
import type { LiveIndex, RecordRef } from './spool-index.ts';

export interface SpoolOptions {
  /** Most unacknowledged events held (default 100 000). */
  maxEvents?: number;
  /** Most bytes of unacknowledged records (about the JSON size plus 20 bytes each; default 64 MiB). */
  maxBytes?: number;
  /** A segment is closed once it reaches this size and the next append starts a new one (default 4 MiB). */
  segmentBytes?: number;
  /** Larger single events are dropped as `tooLarge` (default 512 KiB, half the server's batch limit). */
  maxRecordBytes?: number;
  /** Drop counts without an eviction are saved within this time, not with every append (default 1 s). */
  countFlushMs?: number;
  now?: () => number;
}

/** Events read for shipping: `lines` are their JSON texts, in spool order (one NDJSON line each). */
export interface SpoolBatch {
  lastSeq: number;
  /** The spool bytes of its records (what `pending().bytes` counts of them). */
  bytes: number;
  lines: string[];
  /** Records found damaged on reading: counted `corrupt` when the batch is acknowledged. */
  corrupt: number;
}

export const SPOOL_DEFAULTS: Required<Omit<SpoolOptions, 'now'>> = { maxEvents: 100_000, maxBytes: 64 << 20, segmentBytes: 4 << 20, maxRecordBytes: 512 << 10, countFlushMs: 1000 };

/** What became of one `append` call's events. */
export interface AppendResult {
  /** Events now durably in the spool. */
  taken: number;
  /** Events of this call that were not taken, by reason. */
  dropped: Partial<DropCounts>;
  /** Older audit-mode events evicted from the spool to make room for this call's blocked ones. */
  evicted: number;
}

export interface SpoolBounds {
  maxEvents: number;
  maxBytes: number;
  maxRecordBytes: number;
}

export interface PlannedRecord {
  seq: number;
  cls: RecordClass;
  length: number;
}

export interface AppendPlan {
  lines: Buffer[];
  planned: PlannedRecord[];
  /** Flagged evicted in the index already; undo with `index.unevict` if the write fails. */
  evicted: RecordRef[];
  results: AppendResult[];
  /** Drops by reason across all calls (evictions not included). */
  drops: Partial<DropCounts>;
}

/**
 * Decides, event by event in arrival order, what a group of appends takes. The spool holds at most `maxEvents` live
 * events and `maxBytes` of their records. An event that fits is taken. When it does not fit:
 *
 * - an audit-mode event (`alerted`, `allowed`) is dropped (`spoolFullAudit`): what is already spooled stays, so the
 *   spool remains a plain FIFO and older evidence is not overwritten by a flood of newer alerts;
 * - a blocked event (or the agent's own event) evicts the oldest spooled audit-mode events not in the batch in
 *   flight, as many as it takes (`evictedAudit`); when even that cannot make room, it is dropped (`spoolFullEnforce`).
 *
 * The agent's own events (drop reports, at most one per report interval) may go over the bounds by 1 % (at least 16
 * events and 64 KiB) before that policy applies to them, so that a report does not itself drop or evict anything. A single event whose record exceeds `maxRecordBytes` is dropped
 * (`tooLarge`). Each event costs O(1) amortized whatever the spool holds (evictions are each paid for once).
 */
export function planAppend(index: LiveIndex, calls: readonly AuditEventV1[][], bounds: SpoolBounds, firstSeq: number): AppendPlan {
  const plan: AppendPlan = { lines: [], planned: [], evicted: [], results: [], drops: {} };
  let seq = firstSeq;
  let events = 0;
  let bytes = 0;
  const fits = (length: number, agent = false, freed = { events: 0, bytes: 0 }) =>
    index.events - freed.events + events + 1 <= bounds.maxEvents + (agent ? Math.max(16, bounds.maxEvents / 100) : 0) &&
    index.bytes - freed.bytes + bytes + length <= bounds.maxBytes + (agent ? Math.max(65_536, bounds.maxBytes / 100) : 0);
  for (const call of calls) {
    const result: AppendResult = { taken: 0, dropped: {}, evicted: 0 };
    plan.results.push(result);
    const drop = (reason: DropReason) => {
      result.dropped[reason] = (result.dropped[reason] ?? 0) + 1;
      plan.drops[reason] = (plan.drops[reason] ?? 0) + 1;
    };
    for (const event of call) {
      const cls = classOf(event);
      const line = encodeRecord(seq, cls, JSON.stringify(event));
      if (line.length > bounds.maxRecordBytes) {
        drop('tooLarge');
        continue;
      }
      if (!fits(line.length, event.kind === 'agent')) {
        if (cls === 'a') {
          drop('spoolFullAudit');
          continue;
        }
        // Whether evicting every audit-mode record not in flight would make room is known without evicting anything:
        // a spool full of blocked events answers in O(1) (it used to rescan the whole index for every event).
        if (!fits(line.length, false, index.evictable())) {
          drop('spoolFullEnforce');
          continue;
        }
        const mine: RecordRef[] = [];
        while (!fits(line.length)) {
          const ref = index.evictOldestAudit();
          if (ref === undefined) break; // cannot happen: evictable() said there was room
          mine.push(ref);
        }
        if (!fits(line.length)) {
          index.unevict(mine);
          drop('spoolFullEnforce');
          continue;
        }
        plan.evicted.push(...mine);
        result.evicted += mine.length;
      }
      plan.lines.push(line);
      plan.planned.push({ seq: seq++, cls, length: line.length });
      result.taken++;
      events++;
      bytes += line.length;
    }
  }
  return plan;
}
