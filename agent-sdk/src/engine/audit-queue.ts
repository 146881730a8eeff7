/** Why the queue dropped an item. */
export type DropReason = 'overflow' | 'closed' | 'tooLarge';

export interface AuditQueueOptions {
  /** Most items held; when full, the oldest is dropped to make room (newer events matter more to an operator). */
  capacity: number;
  /** Optional size limit per item, in whatever unit `sizeOf` reports; larger items are dropped as `tooLarge`. */
  maxItemSize?: number;
  sizeOf?: (item: unknown) => number;
}

/**
 * A bounded in-memory FIFO for audit events on their way to the control plane. It never blocks and never grows past
 * its capacity; everything it drops is counted by reason, so the agent can report the loss. Web APIs only.
 */
export class AuditQueue<T> {
  readonly #items: T[] = [];
  #head = 0;
  #closed = false;
  readonly #dropped: Record<DropReason, number> = { overflow: 0, closed: 0, tooLarge: 0 };

  constructor(private readonly options: AuditQueueOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) throw new RangeError('capacity must be a positive integer');
  }

  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item; `false` when it was dropped (closed or too large). An overflow drops the oldest item instead. */
  push(item: T): boolean {
    if (this.#closed) return this.#drop('closed');
    const { maxItemSize, sizeOf } = this.options;
    if (maxItemSize !== undefined && sizeOf && sizeOf(item) > maxItemSize) return this.#drop('tooLarge');
    if (this.size >= this.options.capacity) {
      this.#head++;
      this.#drop('overflow');
    }
    this.#items.push(item);
    this.#compact();
    return true;
  }

  /** Takes up to `max` items from the front, oldest first. */
  take(max = Infinity): T[] {
    const n = Math.min(max, this.size);
    const out = this.#items.slice(this.#head, this.#head + n);
    this.#head += n;
    this.#compact();
    return out;
  }

  /** Puts items that failed to send back at the front; what no longer fits is dropped as overflow (the oldest first). */
  requeue(items: T[]): void {
    if (this.#closed) {
      this.#dropped.closed += items.length;
      return;
    }
    const room = this.options.capacity - this.size;
    const keep = items.slice(Math.max(0, items.length - room));
    this.#dropped.overflow += items.length - keep.length;
    this.#items.splice(0, this.#head, ...keep);
    this.#head = 0;
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

  #compact(): void {
    if (this.#head > 0 && this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
      return;
    }
    if (this.#head <= 1024 || this.#head * 2 <= this.#items.length) return;
    this.#items.splice(0, this.#head);
    this.#head = 0;
  }
}
