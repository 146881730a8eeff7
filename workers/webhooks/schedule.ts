/**
 * The Standard Webhooks retry schedule: an attempt at once, then after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
 * 20 h and 24 h, each delay jittered by ±10 % so that many endpoints coming back together are not hit in step.
 * After the tenth attempt fails the delivery is failed (it can be sent again by hand).
 */
const S = 1000;
const M = 60 * S;
const H = 60 * M;
export const RETRY_DELAYS_MS: readonly number[] = [5 * S, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 24 * H];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const JITTER = 0.1;
/** A Retry-After beyond this is cut to it: the schedule's longest step. */
export const MAX_RETRY_AFTER_MS = 24 * H;

/**
 * How long to wait after attempt number `attempts` (1-based) failed; undefined when it was the last. A Retry-After
 * (429, 503) may lengthen the wait, never shorten it: the schedule protects the receiver as much as we honour it.
 */
export function retryDelay(attempts: number, random: () => number, retryAfterMs?: number): number | undefined {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return undefined;
  const jittered = Math.round(base * (1 - JITTER + 2 * JITTER * random()));
  return retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from `now`; undefined when absent or invalid. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * S;
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - now.getTime());
}
