import type { AuditEventV1 } from '../../../schema/audit-event.ts';

export interface AuditAggregatorOptions {
  /** How long identical decisions are counted into one event after the first (0: every decision is its own event). */
  windowMs: number;
  /** Most workloads with a window open at once; past it, decisions pass through unaggregated (memory stays bounded). */
  maxOpen?: number;
  /** A fresh UUIDv7 for each aggregate event. */
  newId: () => string;
}

interface Window {
  /** `identityKey` of the template: windows are found by it first. */
  identity: string;
  /** `aggregateKey` of the template, made when a second decision of the same identity comes (most never do). */
  key?: string;
  start: number;
  template: AuditEventV1;
  repeats: number;
  firstSeen: string;
  lastSeen: string;
}

/**
 * What makes two admission events "the same decision": the workload (namespace, kind, name: the pods of one
 * ReplicaSet are one workload) and the findings digest (each check's id, policy and revision, mode, container, image,
 * severity and message, in order), plus the verdict. Pod names and times are not part of it.
 */
export function aggregateKey(event: AuditEventV1): string {
  const w = event.workload;
  const checks = event.checks.map((c) => [c.id, c.policy?.id, c.policy?.revision, c.mode, c.container, c.image, c.severity, c.message]);
  return JSON.stringify([event.verdict, event.policy?.id, w?.namespace, w?.kind, w?.name, w?.container, checks, event.omittedChecks]);
}

/**
 * What `aggregateKey` compares short of the findings' text: decisions with different identities never aggregate, so
 * the full key (the JSON of every check and message, kilobytes for a pod with many findings) is made only when a
 * workload's decision comes again within its window.
 */
function identityKey(event: AuditEventV1): string {
  const w = event.workload;
  return `${event.verdict}\u0000${event.policy?.id ?? ''}\u0000${w?.namespace ?? ''}\u0000${w?.kind ?? ''}\u0000${w?.name ?? ''}\u0000${w?.container ?? ''}\u0000${event.checks.length}\u0000${event.omittedChecks ?? ''}`;
}

/**
 * Aggregates repeated identical denials (a crash-looping controller re-creating the same bad pod) over a window, so
 * they cost one event instead of one per attempt. The first decision of a key is reported at once and opens a window
 * of `windowMs`; identical ones within it are counted; when it ends, one event stands for them all, with `count`,
 * `firstSeen` and `lastSeen` (and `time` = `lastSeen`), and the key's next decision opens a new window. Only
 * `admission` events are aggregated. Pure: the clock comes in as an argument; nothing is lost, as `drain()` hands out
 * the open windows' counts at shutdown.
 *
 * @example
 * ```ts
 * const agg = new AuditAggregator({ windowMs: 10_000, newId: () => uuidv7() });
 * for (const e of agg.offer(events, Date.now())) queue.push(e); // the first of a window, at once
 * setInterval(() => agg.due(Date.now()).forEach((e) => queue.push(e)), 1000); // the repeats, counted
 * ```
 */
export class AuditAggregator {
  /** Open windows in the order they opened (so also the order they end in). */
  readonly #open = new Set<Window>();
  /** The open windows by the identity of their decision. */
  readonly #byIdentity = new Map<string, Window[]>();

  constructor(private readonly options: AuditAggregatorOptions) {}

  get openWindows(): number {
    return this.#open.size;
  }

  /** The events to report now: each one that opens a window (or passes through), plus any ended window's aggregate. */
  offer(events: readonly AuditEventV1[], now: number): AuditEventV1[] {
    const out = this.due(now);
    if (this.options.windowMs <= 0) return [...out, ...events];
    for (const event of events) {
      if (event.kind !== 'admission') {
        out.push(event);
        continue;
      }
      const identity = identityKey(event);
      const candidates = this.#byIdentity.get(identity);
      const open = candidates && this.#same(candidates, event);
      if (open) {
        open.repeats++;
        if (open.repeats === 1) open.firstSeen = event.time;
        open.lastSeen = event.time;
        continue;
      }
      if (this.#open.size < (this.options.maxOpen ?? 10_000)) {
        const w: Window = { identity, start: now, template: event, repeats: 0, firstSeen: event.time, lastSeen: event.time };
        this.#open.add(w);
        if (candidates) candidates.push(w);
        else this.#byIdentity.set(identity, [w]);
      }
      out.push(event);
    }
    return out;
  }

  /** Closes the windows that have ended by `now`; returns the aggregate events of those that counted repeats. */
  due(now: number): AuditEventV1[] {
    const out: AuditEventV1[] = [];
    for (const w of this.#open) {
      if (now < w.start + this.options.windowMs) break; // opened in order: the rest end later
      this.#open.delete(w);
      const list = this.#byIdentity.get(w.identity)!;
      if (list.length === 1) this.#byIdentity.delete(w.identity);
      else list.splice(list.indexOf(w), 1);
      if (w.repeats > 0) out.push(this.#aggregate(w));
    }
    return out;
  }

  /** Closes every window (at shutdown). */
  drain(): AuditEventV1[] {
    const out = [...this.#open].filter((w) => w.repeats > 0).map((w) => this.#aggregate(w));
    this.#open.clear();
    this.#byIdentity.clear();
    return out;
  }

  /** The open window of the same decision as `event`, by the full key (made now for the windows that lack it). */
  #same(candidates: Window[], event: AuditEventV1): Window | undefined {
    const key = aggregateKey(event);
    for (const w of candidates) if ((w.key ??= aggregateKey(w.template)) === key) return w;
    return undefined;
  }

  #aggregate(w: Window): AuditEventV1 {
    return { ...w.template, id: this.options.newId(), time: w.lastSeen, count: w.repeats, firstSeen: w.firstSeen, lastSeen: w.lastSeen };
  }
}
