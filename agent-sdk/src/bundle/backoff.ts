/**
 * How long to wait between polls. All delays in milliseconds.
 *
 * @example
 * ```ts
 * new BundleClient({ ...settings, timing: { interval: { minMs: 10_000, maxMs: 20_000 } } });
 * ```
 */
export interface PollTiming {
  /** Interval between successful polls, drawn uniformly from [min, max] (default 30-60 s). */
  interval: { minMs: number; maxMs: number };
  /** After failures: `baseMs * 2^(failures-1)`, capped at `capMs` (default 1 s, 5 min), with jitter. */
  backoff: { baseMs: number; capMs: number };
}

/**
 * 30-60 s between polls; backoff from 1 s doubling up to 5 min.
 *
 * @example
 * ```ts
 * const timing = { ...DEFAULT_TIMING, backoff: { baseMs: 5_000, capMs: 60_000 } };
 * ```
 */
export const DEFAULT_TIMING: PollTiming = {
  interval: { minMs: 30_000, maxMs: 60_000 },
  backoff: { baseMs: 1_000, capMs: 5 * 60_000 },
};

/**
 * A jittered interval, so a fleet of agents started together does not poll in lockstep.
 *
 * @example
 * ```ts
 * pollDelay(DEFAULT_TIMING, Math.random); // 30 000 to 60 000
 * ```
 */
export function pollDelay(timing: PollTiming, random: () => number): number {
  const { minMs, maxMs } = timing.interval;
  return Math.round(minMs + random() * (maxMs - minMs));
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed and half random, so the delay still grows with
 * each failure while agents that failed together spread out. A server's `Retry-After` is honoured up to the cap.
 *
 * @example
 * ```ts
 * backoffDelay(1, DEFAULT_TIMING, Math.random); // 500 to 1 000
 * backoffDelay(4, DEFAULT_TIMING, Math.random); // 4 000 to 8 000
 * backoffDelay(3, DEFAULT_TIMING, Math.random, 120_000); // 120 000: Retry-After wins
 * ```
 */
export function backoffDelay(failures: number, timing: PollTiming, random: () => number, retryAfterMs?: number): number {
  const { baseMs, capMs } = timing.backoff;
  const step = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  const delay = step / 2 + random() * (step / 2);
  return Math.round(Math.min(capMs, Math.max(delay, retryAfterMs ?? 0)));
}

/** Waits `ms`, or less if `signal` aborts first. Never rejects. */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
