import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Shipper, type ShipperOptions } from '../src/audit/shipper.ts';
import { Spool } from '../src/audit/spool.ts';
import { parseRetryAfter } from '../src/audit/upload.ts';
import { numbersOf, range, testEvent } from './support/audit-events.ts';
import { accepted, fakeEventsFetch, problem, recordingSleep, until, type Responder } from './support/audit-server.ts';

let dir: string;
let spool: Spool;
let shipper: Shipper | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-shipper-'));
  spool = await Spool.open(dir);
});
afterEach(async () => {
  await shipper?.stop();
  shipper = undefined;
  await spool.close();
  await rm(dir, { recursive: true, force: true });
});

function ship(respond?: Responder, options: Partial<ShipperOptions> = {}) {
  const server = fakeEventsFetch(respond);
  const sleep = recordingSleep();
  shipper = new Shipper({ url: 'http://cp.test/base', credential: 'cred-1', spool, fetch: server.fetch, sleep: sleep.sleep, random: () => 0.5, maxWaitMs: 20, ...options });
  shipper.start();
  return { ...server, asked: sleep.asked };
}
const shipped = (received: { lines: string[] }[]) => received.flatMap((b) => numbersOf(b.lines));
const drained = () => until(() => spool.pending().events === 0);

describe('audit shipper', () => {
  it('sends gzip NDJSON batches by size, with the credential, and acknowledges them in the spool', async () => {
    await spool.append(range(0, 25).map((n) => testEvent(n)));
    const { received } = ship(undefined, { batchEvents: 10, maxWaitMs: 60_000 });
    await until(() => received.length === 2);
    expect(received[0]!.headers).toMatchObject({ authorization: 'Bearer cred-1', 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' });
    expect(received[0]!.lines.map((l) => JSON.parse(l))).toEqual(range(0, 10).map((n) => ({ ...testEvent(n), time: expect.any(String) })));
    expect(shipped(received)).toEqual(range(0, 20)); // the last 5 wait for more events or for age
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(2);
    expect(shipper!.counters).toMatchObject({ batches: 2, accepted: 20 });
  });

  it('sends a partial batch once its oldest event reached the maximum wait', async () => {
    const { received } = ship(undefined, { batchEvents: 100, maxWaitMs: 100, gzip: false });
    const at = Date.now();
    await spool.append([testEvent(0)]);
    await spool.append([testEvent(1)]);
    await until(() => received.length === 1);
    expect(Date.now() - at).toBeGreaterThanOrEqual(90);
    expect(received[0]!.headers['content-encoding']).toBeUndefined();
    expect(shipped(received)).toEqual([0, 1]);
  });

  it('keeps a batch until the server acknowledges it, backing off exponentially with jitter', async () => {
    const { received, asked } = ship((b, n) => (n <= 3 ? problem(500) : n === 4 ? Promise.reject(new TypeError('fetch failed')) : accepted(b.lines.length)));
    await spool.append([testEvent(0), testEvent(1)]);
    await drained();
    expect(received.map((b) => numbersOf(b.lines))).toEqual([[0, 1], [0, 1], [0, 1], [0, 1], [0, 1]]);
    // random() = 0.5: three quarters of 1 s, 2 s, 4 s, 8 s
    expect(asked.filter((ms) => ms < 60_000 && ms >= 500)).toEqual([750, 1500, 3000, 6000]);
    expect(shipper!.counters).toMatchObject({ failures: 4, batches: 1, accepted: 2 });
  });

  it('honours Retry-After on 429 (seconds) and 503 (HTTP date), and keeps retrying after 401', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const date = new Date(now + 42_000).toUTCString();
    const answers = [problem(429, { 'retry-after': '30' }), problem(503, { 'retry-after': date }), problem(401)];
    const { asked } = ship((b, n) => answers[n - 1] ?? accepted(b.lines.length), { now: () => now, batchEvents: 1 }); // a full batch: no waiting on the frozen clock
    await spool.append([testEvent(0)]);
    await drained();
    expect(asked.filter((ms) => ms >= 500 && ms < 3_600_000)).toEqual([30_000, 42_000, 3000]);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('splits a batch refused with 413 and drops (counting) a single event still too large', async () => {
    const { received } = ship((b) => (b.lines.length > 3 || b.lines.some((l) => l.includes('web-5"')) ? problem(413) : accepted(b.lines.length)), { batchEvents: 8 });
    await spool.append(range(0, 8).map((n) => testEvent(n)));
    await drained();
    const delivered = received.filter((b) => b.lines.length <= 3 && !b.lines.some((l) => l.includes('web-5"')));
    expect(delivered.flatMap((b) => numbersOf(b.lines))).toEqual([0, 1, 2, 3, 4, 6, 7]);
    expect(spool.dropped()).toMatchObject({ tooLarge: 1, rejected: 0 });
    expect(shipper!.counters.splits).toBeGreaterThanOrEqual(2);
  });

  it('drops the events the server rejects (202 with rejected indexes, or 422 for all) and counts them', async () => {
    const { received } = ship((b, n) => (n === 1 ? accepted(b.lines.length, [1, 2]) : problem(422)), { batchEvents: 4, maxWaitMs: 0 });
    await spool.append(range(0, 4).map((n) => testEvent(n)));
    await drained();
    await spool.append([testEvent(9)]);
    await drained();
    expect(received.map((b) => numbersOf(b.lines))).toEqual([[0, 1, 2, 3], [9]]); // never sent again
    expect(spool.dropped()).toMatchObject({ rejected: 3 });
  });

  it('keeps full batches in flight side by side (batchesInFlight) and acknowledges them in spool order', async () => {
    const answers: Array<(r: Response) => void> = [];
    let open = 0;
    let most = 0;
    const { received } = ship(
      (b) => {
        most = Math.max(most, ++open);
        return new Promise<Response>((resolve) => answers.push((r) => (open--, resolve(r)))).then((r) => r);
      },
      { batchEvents: 10, batchesInFlight: 2, maxWaitMs: 60_000 },
    );
    await spool.append(range(0, 30).map((n) => testEvent(n)));
    await until(() => received.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(received).toHaveLength(2); // no third while two are out
    answers[1]!(accepted(10)); // the second answers first: nothing is acknowledged before the first
    await new Promise((r) => setTimeout(r, 30));
    expect(spool.pending().events).toBe(30);
    answers[0]!(accepted(10));
    await until(() => received.length === 3);
    expect(spool.pending().events).toBe(10);
    answers[2]!(accepted(10));
    await drained();
    expect(received.map((b) => numbersOf(b.lines))).toEqual([range(0, 10), range(10, 20), range(20, 30)]);
    expect(most).toBe(2);
    expect(shipper!.counters).toMatchObject({ batches: 3, accepted: 30, failures: 0 });
  });

  it('sends the batches after a failed one again with it, losing and dropping nothing', async () => {
    const { received } = ship(
      async (b, n) => {
        if (n === 1) {
          await until(() => received.length >= 2); // the second is in flight when the first fails
          return problem(503);
        }
        return accepted(b.lines.length);
      },
      { batchEvents: 10, batchesInFlight: 2, maxWaitMs: 60_000 },
    );
    await spool.append(range(0, 20).map((n) => testEvent(n)));
    await drained();
    expect(received.slice(0, 2).map((b) => numbersOf(b.lines))).toEqual([range(0, 10), range(10, 20)]);
    expect(new Set(shipped(received.slice(2)))).toEqual(new Set(range(0, 20))); // all of it again, from the oldest
    expect(Object.values(spool.dropped()).every((n) => n === 0)).toBe(true);
    expect(shipper!.counters).toMatchObject({ failures: 1 });
  });
});
