/**
 * Why the queue dropped an item. `overflow`: an audit-mode item (or any item of a queue without priorities) made
 * way for a newer one; `overflowEnforce`: an enforce-mode item was lost because the queue was full of enforce-mode
 * items; `closed`: pushed after `close()`; `tooLarge`: over `maxItemSize`.
 */
export type DropReason = 'overflow' | 'overflowEnforce' | 'closed' | 'tooLarge';

export interface AuditQueueOptions<T = unknown> {
  /** Most items held; when full, the oldest is dropped to make room (newer events matter more to an operator). */
  capacity: number;
  /** Optional size limit per item, in whatever unit `sizeOf` reports; larger items are dropped as `tooLarge`. */
  maxItemSize?: number;
  sizeOf?: (item: T) => number;
  /**
   * True for items that must not be crowded out (blocked decisions): when the queue is full, the oldest other item
   * goes first, and `take` hands these out first. Without it, every item is treated alike.
   */
  priority?: (item: T) => boolean;
}

/** A FIFO with O(1) amortized push and shift. */
class Lane<T> {
  items: T[] = [];
  head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  shift(): T | undefined {
    const item = this.items[this.head];
    if (this.head < this.items.length) this.head++;
    this.compact();
    return item;
  }
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    this.compact();
    return out;
  }
  unshift(items: T[]): void {
    this.items.splice(0, this.head, ...items);
    this.head = 0;
  }
  compact(): void {
    if (this.head > 0 && this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
  }
}

/**
 * A bounded in-memory queue for audit events on their way to the control plane, in two lanes: priority items
 * (blocked decisions) and the rest (audit-mode findings), each FIFO. It never blocks and never grows past its
 * capacity; when full, audit-mode items are dropped before any enforce-mode one, and everything it drops is counted
 * by reason, so the agent can report the loss. Web APIs only.
 *
 * @example
 * ```ts
 * const queue = new AuditQueue<AuditEventV1>({ capacity: 10_000, priority: (e) => e.verdict === 'blocked' });
 * queue.push(event);
 * const batch = queue.take(1000); // blocked events first
 * ```
 */
export class AuditQueue<T> {
  readonly #enforce = new Lane<T>();
  readonly #audit = new Lane<T>();
  #closed = false;
  readonly #dropped: Record<DropReason, number> = { overflow: 0, overflowEnforce: 0, closed: 0, tooLarge: 0 };

  constructor(private readonly options: AuditQueueOptions<T>) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.#enforce.size + this.#audit.size;
  }

  /** Adds an item; `false` when it was dropped (closed, too large, or an audit-mode item with no room left). */
  push(item: T): boolean {
    if (this.#closed) return this.#drop('closed');
    const { maxItemSize, sizeOf } = this.options;
    if (maxItemSize !== undefined && sizeOf && sizeOf(item) > maxItemSize) return this.#drop('tooLarge');
    const urgent = this.options.priority?.(item) ?? false;
    if (this.size >= this.options.capacity) {
      if (this.#audit.size > 0) {
        this.#audit.shift();
        this.#drop('overflow');
      } else if (!urgent) return this.#drop('overflow'); // full of enforce-mode items: they stay
      else {
        this.#enforce.shift();
        this.#drop('overflowEnforce');
      }
    }
    (urgent ? this.#enforce : this.#audit).items.push(item);
    return true;
  }

  /** Takes up to `max` items: priority items first, each lane oldest first. */
  take(max = Infinity): T[] {
    const first = this.#enforce.take(Math.min(max, this.#enforce.size));
    return first.length >= max ? first : [...first, ...this.#audit.take(Math.min(max - first.length, this.#audit.size))];
  }

  /** Puts items that failed to send back in front; what no longer fits is dropped (audit-mode and the oldest first). */
  requeue(items: T[]): void {
    if (this.#closed) {
      this.#dropped.closed += items.length;
      return;
    }
    const urgent = items.filter((i) => this.options.priority?.(i) ?? false);
    const rest = items.filter((i) => !(this.options.priority?.(i) ?? false));
    let room = this.options.capacity - this.size;
    const keepUrgent = urgent.slice(Math.max(0, urgent.length - room));
    room -= keepUrgent.length;
    const keepRest = rest.slice(Math.max(0, rest.length - room));
    this.#dropped.overflowEnforce += urgent.length - keepUrgent.length;
    this.#dropped.overflow += rest.length - keepRest.length;
    this.#enforce.unshift(keepUrgent);
    this.#audit.unshift(keepRest);
  }

  /** Stops accepting items; those queued can still be taken. */
  close(): void {
    this.#closed = true;
  }

  /** Items dropped so far, by reason. */
  dropped(): Readonly<Record<DropReason, number>> {
    return { ...this.#dropped };
  }

  #drop(reason: DropReason): false {
    this.#dropped[reason]++;
    return false;
  }
}
