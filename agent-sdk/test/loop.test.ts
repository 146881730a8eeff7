import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffDelay, BundleClient, DEFAULT_TIMING, StatusReporter, type BundleClientOptions, type JWKS, type PollResult } from '../src/index.ts';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';

let trust: JWKS;
let server: FakeControlPlane;
let good: string;

beforeAll(async () => {
  const { key, jwks } = await newKey();
  trust = jwks;
  server = await new FakeControlPlane(trust).start();
  good = await sign(key, { revision: 2 });
  server.serve(good, '"r2"');
});
afterAll(() => server.close());

const settings = { credential: CREDENTIAL, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER };

/** Runs the loop with a sleep that records each delay and returns at once, until `count` sleeps happened. */
async function delaysOf(count: number, options: Partial<BundleClientOptions>): Promise<number[]> {
  const delays: number[] = [];
  let client: BundleClient;
  const enough = new Promise<void>((resolve) => {
    client = new BundleClient({
      url: server.url, trust, ...settings, ...options,
      sleep: async (ms) => {
        delays.push(ms);
        if (delays.length === count) resolve();
      },
    });
  });
  client!.start();
  await enough;
  await client!.stop();
  return delays.slice(0, count);
}

describe('polling loop', () => {
  it('backs off exponentially with jitter on errors, up to the cap, and returns to the interval after a success', async () => {
    let calls = 0;
    const failing: typeof fetch = async (input, init) => (++calls <= 12 ? new Response('oops', { status: 502 }) : fetch(input, init));
    const randoms = [0.9, 0.1, 0.5, 0.7, 0.3, 0.0, 0.99, 0.2, 0.6, 0.4, 0.8, 0.5, 0.5, 0.25];
    let r = 0;
    const delays = await delaysOf(14, { fetch: failing, random: () => randoms[r++ % randoms.length]! });
    const failures = delays.slice(0, 12);
    failures.forEach((d, i) => {
      const step = Math.min(DEFAULT_TIMING.backoff.capMs, DEFAULT_TIMING.backoff.baseMs * 2 ** i);
      expect(d).toBeGreaterThanOrEqual(step / 2); // grows...
      expect(d).toBeLessThanOrEqual(step); // ...with jitter inside the step
    });
    expect(failures[9]).toBeLessThanOrEqual(300_000);
    expect(failures.slice(10).every((d) => d >= 150_000 && d <= 300_000)).toBe(true); // capped at 5 min
    expect(new Set(failures.slice(0, 6).map((d, i) => d / 2 ** i)).size).toBeGreaterThan(1); // not lockstep
    expect(delays[12]).toBeGreaterThanOrEqual(30_000); // success: back to the 30-60 s interval
    expect(delays[12]).toBeLessThanOrEqual(60_000);
  });

  it('honours Retry-After, within the cap', () => {
    expect(backoffDelay(1, DEFAULT_TIMING, () => 0, 120_000)).toBe(120_000);
    expect(backoffDelay(1, DEFAULT_TIMING, () => 0, 3_600_000)).toBe(300_000);
  });

  it('start() polls in the background; stop() interrupts a sleep or a long poll at once', async () => {
    const results: PollResult[] = [];
    const c = new BundleClient({ url: server.url, trust, ...settings, onPoll: (p) => results.push(p) });
    c.start();
    await expect.poll(() => c.active?.revision).toBe(2);
    const t0 = Date.now();
    await c.stop(); // sleeping 30-60 s now
    expect(Date.now() - t0).toBeLessThan(1000);

    server.bundleHandler = () => undefined; // a long poll that never answers
    const waiting = new BundleClient({ url: server.url, trust, ...settings, waitSeconds: 60, onPoll: (p) => results.push(p) });
    waiting.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const t1 = Date.now();
    await waiting.stop();
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(results.map((p) => p.outcome)).toEqual(['activated', 'stopped']);
    expect(waiting.status().lastError).toBeNull();
    server.bundleHandler = null;
  });
});

describe('StatusReporter', () => {
  it('posts the status document periodically and a final one on stop', async () => {
    const c = new BundleClient({ url: server.url, trust, ...settings });
    await c.pollOnce();
    let sleeps = 0;
    const reporter = new StatusReporter({
      url: server.url, credential: CREDENTIAL, source: () => c.status(), intervalMs: 1000,
      sleep: (ms, signal) => new Promise((resolve) => { sleeps++; expect(ms).toBeGreaterThanOrEqual(1000); expect(ms).toBeLessThanOrEqual(1200); signal.addEventListener('abort', () => resolve()); if (sleeps < 3) resolve(); }),
    });
    const before = server.statuses.length;
    reporter.start();
    await expect.poll(() => server.statuses.length - before).toBe(3);
    await reporter.stop(true);
    expect(server.statuses.length - before).toBe(4);
    expect(server.statuses.at(-1)).toEqual(c.status());
    expect(Object.keys(server.statuses.at(-1)!).sort()).toEqual(['activeDigest', 'activeRevision', 'agentVersion', 'counters', 'lastActivationAt', 'lastDownloadAt', 'lastError'].sort());
  });

  it('reports failures to onError and keeps going', async () => {
    const errors: Error[] = [];
    const reporter = new StatusReporter({ url: server.url, credential: 'wrong', source: () => new BundleClient({ url: server.url, trust, ...settings }).status(), onError: (e) => errors.push(e), sleep: async () => undefined });
    await expect(reporter.reportOnce()).rejects.toMatchObject({ name: 'ControlPlaneError', code: 'unauthorized', status: 401 });
    reporter.start();
    await expect.poll(() => errors.length).toBeGreaterThan(2);
    await reporter.stop();
  });
});

describe('backoff on refused bundles', () => {
  it('keeps growing while the control plane serves a bad bundle', async () => {
    const { key: foreign } = await newKey();
    const bad = await sign(foreign, { revision: 3 });
    const serveBad: typeof fetch = async () => new Response(bad, { headers: { 'content-type': 'application/jose', etag: '"bad"' } });
    const delays = await delaysOf(4, { fetch: serveBad, random: () => 0 });
    expect(delays).toEqual([500, 1000, 2000, 4000]);
  });
});
