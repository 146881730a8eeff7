import { gunzipSync } from 'node:zlib';
import { abortableSleep } from '../../src/bundle/backoff.ts';

export interface ReceivedBatch {
  headers: Record<string, string>;
  /** The NDJSON lines, decompressed. */
  lines: string[];
}

/** Answers one batch: a Response, or a thrown error (a network failure). */
export type Responder = (batch: ReceivedBatch, n: number) => Response | Promise<Response>;

export const accepted = (count: number, rejected: number[] = []) =>
  Response.json({ accepted: count - rejected.length, duplicates: 0, rejected: rejected.map((index) => ({ index, reason: 'invalid' })) }, { status: 202 });

export const problem = (status: number, headers: Record<string, string> = {}) =>
  Response.json({ type: 'about:blank', title: `HTTP ${status}`, status }, { status, headers: { 'content-type': 'application/problem+json', ...headers } });

/** An in-process `fetch` standing in for `POST /v1/agent/events`: decodes each batch, records it, answers via `respond`. */
export function fakeEventsFetch(respond: Responder = (b) => accepted(b.lines.length)) {
  const received: ReceivedBatch[] = [];
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    const headers = Object.fromEntries(new Headers(init?.headers).entries());
    const raw = Buffer.from(init?.body as Uint8Array);
    const text = (headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
    const batch = { headers, lines: text.split('\n').filter((l) => l !== '') };
    received.push(batch);
    return respond(batch, received.length);
  };
  return { fetch, received };
}

/** A `sleep` that records what it was asked for and waits at most `capMs` really (still waking on abort). */
export function recordingSleep(capMs = 5) {
  const asked: number[] = [];
  const sleep = (ms: number, signal: AbortSignal) => {
    asked.push(ms);
    return abortableSleep(Math.min(ms, capMs), signal);
  };
  return { sleep, asked };
}

export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting for the condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
