import type { AuditEventV1 } from '../../../schema/audit-event.ts';

interface Window {
  start: number;
  last: AuditEventV1;
  repeats: number;
  firstSeen: string;
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/**
 * Files not fully scanned for one reason in one container (every `.gz` of an image while archive scanning is off)
 * cost one event per window, not one per file: the first is reported at once and opens a window of `windowMs`; the
 * others within it are counted; when it ends, one event stands for them, with `count`, `firstSeen` and `lastSeen`,
 * naming the last file. Detections are never aggregated. Nothing is dropped: `drain()` hands out open counts.
 *
 * @example
 * ```ts
 * const agg = new NotScannedAggregator(300_000, uuidv7);
 * onAudit(agg.offer(event, Date.now()));
 * setInterval(() => onAudit(agg.due(Date.now())), 1000);
 * ```
 */
export class NotScannedAggregator {
  readonly #open = new Map<string, Window>();

  constructor(private readonly windowMs: number, private readonly newId: () => string) {}

  offer(event: AuditEventV1, now: number): AuditEventV1[] {
    const out = this.due(now);
    const f = event.file;
    if (!f || f.verdict === 'infected' || this.windowMs <= 0) return [...out, event];
    const w = event.workload;
    const key = JSON.stringify([w?.namespace, w?.pod, w?.container, f.verdict, f.reason, event.mode]);
    const open = this.#open.get(key);
    if (!open) {
      this.#open.set(key, { start: now, last: event, repeats: 0, firstSeen: event.time });
      return [...out, event];
    }
    if (open.repeats === 0) open.firstSeen = event.time;
    open.repeats++;
    open.last = event;
    return out;
  }

  /** The aggregates of windows that have ended. */
  due(now: number): AuditEventV1[] {
    const out: AuditEventV1[] = [];
    for (const [key, w] of this.#open) {
      if (w.start + this.windowMs > now) break;
      this.#open.delete(key);
      if (w.repeats > 0) out.push(this.#aggregate(w));
    }
    return out;
  }

  drain(): AuditEventV1[] {
    const out = [...this.#open.values()].filter((w) => w.repeats > 0).map((w) => this.#aggregate(w));
    this.#open.clear();
    return out;
  }

  #aggregate(w: Window): AuditEventV1 {
    const e = w.last;
    const more = `${w.repeats} file${w.repeats === 1 ? '' : 's'} not fully scanned for the same reason since the first was reported; the last: `;
    return {
      ...e,
      id: this.newId(),
      checks: e.checks.map((c) => ({ ...c, message: clip(more + c.message, 4096) })),
      count: w.repeats,
      firstSeen: w.firstSeen,
      lastSeen: e.time,
    };
  }
}
