import { abortableSleep, backoffDelay } from '../bundle/backoff.ts';
import type { ControlPlaneError } from '../bundle/http.ts';
import type { Spool, SpoolBatch } from './spool.ts';
import { uploadBatch, type UploadOutcome } from './upload.ts';

export interface ShipperOptions {
  url: string;
  /** The agent credential; a function is asked before each upload (so a rotated credential is picked up). */
  credential: string | (() => string);
  spool: Pick<Spool, 'readBatch' | 'ack' | 'pending' | 'onAppend'>;
  /** Most events per batch (default 500; the server takes up to 1 000). */
  batchEvents?: number;
  /** Most spooled bytes per batch, before compression (default 1 MiB, what the server takes). */
  batchBytes?: number;
  /** A batch smaller than the limits goes out once its oldest event is this old (default 1 s). */
  maxWaitMs?: number;
  /**
   * Full batches uploaded at once (default 1). The spool acknowledges them in order; when the oldest fails, those
   * after it are set aside and sent again with it (the server keeps each event once).
   */
  batchesInFlight?: number;
  timeoutMs?: number;
  gzip?: boolean;
  /** After failures: `baseMs * 2^(n-1)` with equal jitter, capped (default 1 s to 5 min); Retry-After wins if longer. */
  backoff?: { baseMs: number; capMs: number };
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called after each upload attempt, e.g. to log it. */
  onUpload?: (outcome: UploadOutcome, events: number) => void;
}

export interface ShipperCounters {
  /** Batches the server acknowledged. */
  batches: number;
  /** Events it stored as new, and those it already had (re-sent after a crash or a lost answer). */
  accepted: number;
  duplicates: number;
  /** Failed attempts (retried), and batches refused as a whole and split. */
  failures: number;
  splits: number;
}

/**
 * Ships the spool to `POST /v1/agent/events`: waits until a batch is full (events or bytes) or its oldest event is
 * `maxWaitMs` old, uploads it, and acknowledges it in the spool only after a 2xx answer. While more full batches wait
 * behind it, up to `batchesInFlight` go at once (a round trip that waits behind other work, as in a busy webhook,
 * then carries several batches); they are acknowledged in spool order. Failures
 * back off exponentially with jitter, honouring `Retry-After` on 429 and 503. A batch refused as a whole (413, 400,
 * 415) is retried in halves down to single events; a single event so refused is dropped and counted (`tooLarge` for
 * 413, `rejected` otherwise), as are the events of a 422 (`rejected`): nothing is retried forever.
 */
export class Shipper {
  readonly counters: ShipperCounters = { batches: 0, accepted: 0, duplicates: 0, failures: 0, splits: 0 };
  /** The last failure (cleared by an acknowledged batch). */
  lastError: ControlPlaneError | Error | null = null;
  readonly #o;
  #loop: { controller: AbortController; done: Promise<void> } | undefined;
  /** Uploads under way, oldest first; each outcome settles (never rejects: an error is a value here). */
  #inFlight: Array<{ batch: SpoolBatch; outcome: Promise<{ value: UploadOutcome | 'stopped' } | { error: unknown }> }> = [];

  constructor(options: ShipperOptions) {
    this.#o = {
      batchEvents: 500, batchBytes: 1 << 20, maxWaitMs: 1000, batchesInFlight: 1, timeoutMs: 30_000, gzip: true, backoff: { baseMs: 1000, capMs: 5 * 60_000 },
      fetch: ((input, init) => globalThis.fetch(input, init)) as typeof fetch, now: Date.now, sleep: abortableSleep, random: Math.random,
      ...options,
    };
  }

  start(): void {
    if (this.#loop) return;
    const controller = new AbortController();
    this.#loop = { controller, done: this.#run(controller.signal) };
  }

  /** Stops shipping; an upload in flight is abandoned (the batch stays in the spool and goes again later). */
  async stop(): Promise<void> {
    const loop = this.#loop;
    this.#loop = undefined;
    loop?.controller.abort();
    await loop?.done;
  }

  async #run(signal: AbortSignal): Promise<void> {
    try {
      const state = { failures: 0, limit: this.#o.batchEvents };
      while (!signal.aborted) {
        let retryAfterMs: number | undefined;
        try {
          const step = await this.#step(state, signal);
          if (step === 'again') continue;
          retryAfterMs = step.retryAfterMs;
        } catch (err) {
          if (signal.aborted) return;
          this.lastError = err as Error; // the spool failed (disk): try again later
        }
        this.counters.failures++;
        const timing = { interval: { minMs: 0, maxMs: 0 }, backoff: this.#o.backoff };
        await this.#o.sleep(backoffDelay(++state.failures, timing, this.#o.random, retryAfterMs), signal);
      }
    } finally {
      await this.#setAside(); // stopped: what was in flight goes again after a restart
    }
  }

  /** Waits for a batch or sends one; 'again' to go on at once, else a failure to back off from. */
  async #step(state: { failures: number; limit: number }, signal: AbortSignal): Promise<'again' | { retryAfterMs: number | undefined }> {
    const o = this.#o;
    if (this.#inFlight.length === 0) {
      const { events, bytes, oldestAt } = o.spool.pending();
      const wait = events === 0 ? 3_600_000 : events >= state.limit || bytes >= o.batchBytes ? 0 : (oldestAt ?? 0) + o.maxWaitMs - o.now();
      if (wait > 0) {
        await this.#idle(wait, signal);
        return 'again';
      }
      const batch = await o.spool.readBatch(state.limit, o.batchBytes);
      if (batch === null) return 'again';
      this.#launch(batch, signal);
    }
    await this.#topUp(state, signal);
    const { batch, outcome: settled } = this.#inFlight[0]!;
    const result = await settled;
    if ('error' in result) {
      await this.#setAside();
      throw result.error;
    }
    const outcome = result.value;
    if (outcome === 'stopped') return 'again';
    if (outcome.kind === 'retry') {
      await this.#setAside();
      this.lastError = outcome.error;
      return { retryAfterMs: outcome.retryAfterMs };
    }
    state.failures = 0;
    if (outcome.kind === 'split' && batch.lines.length + batch.corrupt > 1) {
      await this.#setAside();
      this.counters.splits++;
      state.limit = Math.max(1, Math.floor((batch.lines.length + batch.corrupt) / 2));
      return 'again';
    }
    this.#inFlight.shift();
    if (outcome.kind === 'acked') {
      this.lastError = null;
      if (batch.lines.length > 0) {
        this.counters.batches++;
        this.counters.accepted += outcome.accepted;
        this.counters.duplicates += outcome.duplicates;
      }
      state.limit = Math.min(o.batchEvents, state.limit * 2);
    }
    const all = batch.lines.length;
    await o.spool.ack(batch, outcome.kind === 'acked' ? { rejected: outcome.rejected } : outcome.kind === 'split' && outcome.status === 413 ? { tooLarge: all } : { rejected: all });
    return 'again';
  }

  /** Starts uploading `batch` behind those in flight (a batch of damaged records only needs no upload). */
  #launch(batch: SpoolBatch, signal: AbortSignal): void {
    const outcome =
      batch.lines.length === 0
        ? Promise.resolve({ value: { kind: 'acked', status: 0, accepted: 0, duplicates: 0, rejected: 0 } as const })
        : this.#send(batch, signal).then((value) => ({ value }), (error: unknown) => ({ error }));
    this.#inFlight.push({ batch, outcome });
  }

  /**
   * Adds full batches behind those in flight, up to `batchesInFlight`: only full ones (a partial batch keeps waiting
   * for more events or for age, as the first one does), and not while a refused batch is being split.
   */
  async #topUp(state: { limit: number }, signal: AbortSignal): Promise<void> {
    const o = this.#o;
    while (this.#inFlight.length < o.batchesInFlight && state.limit === o.batchEvents && !signal.aborted) {
      const { events, bytes } = o.spool.pending();
      const sent = this.#inFlight.reduce((n, f) => ({ events: n.events + f.batch.lines.length + f.batch.corrupt, bytes: n.bytes + f.batch.bytes }), { events: 0, bytes: 0 });
      if (events - sent.events < state.limit && bytes - sent.bytes < o.batchBytes) return;
      const next = await o.spool.readBatch(state.limit, o.batchBytes, this.#inFlight.at(-1)!.batch.lastSeq);
      if (next === null) return;
      this.#launch(next, signal);
    }
  }

  /** Forgets every upload in flight once they settle: the next attempt reads again from the oldest unacknowledged event. */
  async #setAside(): Promise<void> {
    const rest = this.#inFlight.splice(0);
    await Promise.all(rest.map((f) => f.outcome));
  }

  async #send(batch: SpoolBatch, signal: AbortSignal): Promise<UploadOutcome | 'stopped'> {
    const o = this.#o;
    const credential = typeof o.credential === 'function' ? o.credential() : o.credential;
    try {
      const outcome = await uploadBatch(batch.lines, { url: o.url, credential, fetch: o.fetch, timeoutMs: o.timeoutMs, gzip: o.gzip, now: o.now, signal });
      o.onUpload?.(outcome, batch.lines.length);
      return outcome;
    } catch (err) {
      if (signal.aborted) return 'stopped';
      throw err;
    }
  }

  /** Sleeps up to `ms`, waking early when events are appended or the shipper stops. */
  async #idle(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    const off = this.#o.spool.onAppend(() => wake.abort());
    try {
      await this.#o.sleep(ms, AbortSignal.any([signal, wake.signal]));
    } finally {
      off();
    }
  }
}
