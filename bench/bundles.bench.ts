import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { canonicalJson, contentDigest } from '../schema/canonical-json.ts';
import { runtimePolicies } from '../schema/tables/index.ts';
import { createApp, type PalisadeApp } from '../workers/app.ts';
import { compileBundle, FragmentMemo, renderBundle } from '../workers/bundles/bundle.compile.ts';
import { SourceRowCache } from '../workers/bundles/source-cache.ts';
import { gzipText, signBundle } from '../workers/bundles/bundle.sign.ts';
import { loadBundleSources, readBundleBytes, saveBundleRow } from '../workers/bundles/bundle.store.ts';
import { inTenant } from '../workers/db/db.ts';
import { openPglite } from '../workers/node.ts';
import { pollAnsweringServer } from '../workers/node/poll-listener.ts';
import { countingDatabase } from '../test/support/counting-driver.ts';
import { simulateInstances } from './instances.sim.ts';
import { seedTenant } from './seed.ts';
import { fmt, median, report } from './stats.ts';

const RUNS = 7;

/**
 * CPU time of the process per run (user + system), beside wall time: on a shared machine the wall clock also counts
 * time the scheduler gave to others, the CPU time does not (PGlite runs in this process, so the database is in it).
 */
async function cpuRuns(runs: number, fn: () => Promise<unknown> | unknown, before?: () => Promise<unknown>): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    await before?.();
    const start = performance.now();
    const usage = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(usage);
    cpu.push((used.user + used.system) / 1000);
    wall.push(performance.now() - start);
  }
  return { wall, cpu };
}
/** Alternated pairs (baseline, then ours) per HTTP row, seconds each. */
const PAIRS = 3;
const SECONDS = 4;

/** autocannon as a separate process, so client and server do not share an event loop. */
async function autocannon(url: string, headers: Record<string, string>, seconds: number): Promise<{ rps: number; p99: number; non2xx: number; errors: number }> {
  const args = ['-j', '-c', '20', '-d', String(seconds), ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  const child = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number; timeouts: number };
  return { rps: result.requests.average, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors + result.timeouts };
}

/** A trivial app as `serve` runs it, or the control plane as `npm start` serves it (unchanged polls answered first). */
async function listen(fetch: (req: Request) => Response | Promise<Response>, app?: PalisadeApp): Promise<{ url: string; close: () => void }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1', ...(app ? { createServer: pollAnsweringServer(app) } : {}) }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => server.close() }));
  });
}

export async function benchBundles(): Promise<void> {
  const database = await openPglite();
  try {
    const big = await seedTenant(database, { policies: 1000, profiles: 200 });
    const agentHeaders = { authorization: `Bearer ${big.credential}` };
    const first = await big.app.request('/v1/agent/bundle', { headers: agentHeaders });
    const jws = await first.text();
    const tid = (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { tid: string }).tid;

    // Compile and sign, step by step, against one serialization of the same content as the baseline.
    const sources = (await inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId)))!;
    const content = compileBundle(sources);
    const canonical = canonicalJson(content);
    const [edited] = await database.db.select({ id: runtimePolicies.id }).from(runtimePolicies).where(eq(runtimePolicies.tenantId, tid)).limit(1);
    let n = 0;
    const edit = async () => void (await database.db.execute(sql`update runtime_policies set spec = jsonb_set(spec, '{description}', ${JSON.stringify(`edit ${n++}`)}::jsonb) where id = ${edited!.id}`));
    const load = await cpuRuns(RUNS, () => inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId)));
    const compile = await cpuRuns(RUNS, () => compileBundle(sources));
    const canon = await cpuRuns(RUNS, () => canonicalJson(content));
    const digest = await cpuRuns(RUNS, () => contentDigest(content));
    const sign = await cpuRuns(RUNS, () => signBundle(big.keys.current, { issuer: 'x', tenantId: tid, clusterId: big.clusterId, revision: 1, digest: 'sha256:' + '0'.repeat(64), content: canonical, issuedAt: 1, ttlSeconds: 60 }));
    const gzip = await cpuRuns(RUNS, () => gzipText(jws));
    const stringify = await cpuRuns(RUNS, () => JSON.stringify(content));
    // As measured before: everything marked stale, then one bundle brought up to date (its content is unchanged).
    // The instance keeps what its earlier refreshes read (sources, rendered fragments, the last digest) and checks it
    // against the database each time, as a long-lived instance does.
    const refresh = (app: typeof big.app) => async () => {
      await database.client.query('update cluster_bundles set stale = true');
      app.bundles.changes.tenantChanged(tid);
      await app.bundles.current(database.db, tid, big.clusterId);
    };
    const full = await cpuRuns(RUNS, refresh(big.app));
    // What a real change costs: one policy edited, so a new revision is compiled, signed, gzipped and stored.
    const changed = await cpuRuns(RUNS, async () => {
      await edit();
      await refresh(big.app)();
    });
    // The same two on an instance that has read nothing yet (a new isolate): everything read and rendered in full.
    // (Made before the timed runs: creating an app is not part of a refresh.)
    const freshApps = () => Array.from({ length: RUNS }, () => createApp({ database, config: {}, signing: { issuer: 'https://bench', keys: big.keys } }));
    const coldApps = freshApps();
    const coldFull = await cpuRuns(RUNS, () => refresh(coldApps.pop()!)());
    const coldEditApps = freshApps();
    const coldChanged = await cpuRuns(RUNS, async () => {
      await edit();
      await refresh(coldEditApps.pop()!)();
    });
    // The floor of a refresh that changes content: writing the signed row. Here the stored values again (same bytes).
    const storedRow = await inTenant(database.db, tid, (tx) => readBundleBytes(tx, tid, big.clusterId));
    const store = await cpuRuns(RUNS, () => inTenant(database.db, tid, (tx) => saveBundleRow(tx, { tenantId: tid, clusterId: big.clusterId, ...storedRow })));
    // The incremental parts alone, one policy edited before each run (untimed): rows and fragments cached before.
    const rowCache = new SourceRowCache();
    const memo = new FragmentMemo();
    const loadCached = () => inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId, rowCache));
    renderBundle((await loadCached())!, memo);
    const incLoad = await cpuRuns(RUNS, loadCached, edit);
    let latest = (await loadCached())!;
    const incRender = await cpuRuns(RUNS, () => renderBundle(latest, memo), async () => {
      await edit();
      latest = (await loadCached())!;
    });
    const base = { cpu: median(stringify.cpu), wall: median(stringify.wall) };
    const x = (r: { wall: number[]; cpu: number[] }) =>
      `CPU ${fmt(median(r.cpu))} ms = ${fmt(median(r.cpu) / base.cpu, 1)}x baseline; wall ${fmt(median(r.wall))} ms = ${fmt(median(r.wall) / base.wall, 1)}x`;
    report(`Bundle compile and sign: 1,000 policies, 200 profiles (${(jws.length / 1024).toFixed(0)} KiB JWS), median of ${RUNS}, ratios to JSON.stringify of the content`, [
      ['load sources (PGlite)', x(load)],
      ['compile', x(compile)],
      ['canonical JSON', x(canon)],
      ['load sources, rows cached, one policy edited since (PGlite)', x(incLoad)],
      ['render (canonical JSON), fragments cached, one policy edited since', x(incRender)],
      ['digest (canonical + SHA-256)', x(digest)],
      ['sign (JWS EdDSA, canonical text given)', x(sign)],
      ['gzip of the JWS', x(gzip)],
      ['store the signed row (UPDATE of content, JWS and gzip, PGlite)', x(store)],
      ['full refresh (load+compile+digest+store; content unchanged, as before)', x(full)],
      ['full refresh after a policy edit (+ new revision, sign, gzip)', x(changed)],
      ['  the same, content unchanged, on an instance with nothing cached', x(coldFull)],
      ['  the same, after a policy edit, on an instance with nothing cached', x(coldChanged)],
      ['baseline: JSON.stringify of the content', `CPU ${fmt(base.cpu)} ms, wall ${fmt(base.wall)} ms`],
    ]);

    // Statements per poll, counted at the driver (BEGIN and COMMIT included), through a second instance.
    const counting = countingDatabase(database.client);
    const countingApp = createApp({ database: counting.database, config: {}, signing: { issuer: 'https://bench', keys: big.keys } });
    const etag = (await big.app.request('/v1/agent/bundle', { headers: agentHeaders })).headers.get('etag')!;
    const firstPoll = (await countingApp.request('/v1/agent/bundle', { headers: { ...agentHeaders, 'if-none-match': etag } })).status;
    const warm = counting.statements();
    for (let i = 0; i < 100; i++) await countingApp.request('/v1/agent/bundle', { headers: { ...agentHeaders, 'if-none-match': etag } });
    const after304 = counting.statements();
    await countingApp.request('/v1/agent/bundle', { headers: agentHeaders });
    report('Database statements per poll, one instance (counted at the driver, BEGIN and COMMIT included)', [
      [`first poll of the credential on this instance (${firstPoll}: credential, marker and bundle state in one statement)`, String(warm)],
      ['per 304 poll, mean of the next 100', fmt((after304 - warm) / 100)],
      ['a 200 download on this instance (reads the stored JWS and gzip)', String(counting.statements() - after304)],
    ]);

    // Polls per second over loopback; each row alternates with its trivial Hono twin (same request headers, same status,
    // response headers and body bytes: parsing an Authorization header and writing three headers is not ours to win).
    const small = await seedTenant(database, { policies: 10, profiles: 5 });
    const smallHeaders = { authorization: `Bearer ${small.credential}` };
    const smallFirst = await small.app.request('/v1/agent/bundle', { headers: { ...smallHeaders, 'accept-encoding': 'gzip' } });
    const smallEtag = smallFirst.headers.get('etag')!;
    const smallGzip = new Uint8Array(await smallFirst.arrayBuffer());
    const bigGzip = new Uint8Array(await (await big.app.request('/v1/agent/bundle', { headers: { ...agentHeaders, 'accept-encoding': 'gzip' } })).arrayBuffer());
    const bigEtag = (await big.app.request('/v1/agent/bundle', { headers: agentHeaders })).headers.get('etag')!;
    const trivial = new Hono()
      .get('/304', (c) => c.body(null, 304, { ETag: '"1.1"', 'Cache-Control': 'no-cache', 'Palisade-Bundle-Revision': '1' }))
      .get('/small', (c) => c.body(smallGzip, 200, { 'content-type': 'application/jose', 'content-encoding': 'gzip', etag: '"1.1"', 'cache-control': 'no-cache', 'palisade-bundle-revision': '1', vary: 'Accept-Encoding' }))
      .get('/big', (c) => c.body(bigGzip, 200, { 'content-type': 'application/jose', 'content-encoding': 'gzip', etag: '"1.1"', 'cache-control': 'no-cache', 'palisade-bundle-revision': '1', vary: 'Accept-Encoding' }));
    const baseline = await listen(trivial.fetch);
    const server = await listen(big.app.fetch, big.app);
    const smallServer = await listen(small.app.fetch, small.app);
    const gz = { 'accept-encoding': 'gzip' };
    const rows: Array<{ name: string; base: [string, Record<string, string>]; ours: [string, Record<string, string>] }> = [
      { name: '304, 10-policy cluster', base: [`${baseline.url}/304`, { ...smallHeaders, 'if-none-match': smallEtag }], ours: [`${smallServer.url}/v1/agent/bundle`, { ...smallHeaders, 'if-none-match': smallEtag }] },
      { name: '304, 1,000-policy cluster', base: [`${baseline.url}/304`, { ...agentHeaders, 'if-none-match': bigEtag }], ours: [`${server.url}/v1/agent/bundle`, { ...agentHeaders, 'if-none-match': bigEtag }] },
      { name: `200 gzip, 10-policy cluster (${(smallGzip.length / 1024).toFixed(1)} KiB)`, base: [`${baseline.url}/small`, { ...smallHeaders, ...gz }], ours: [`${smallServer.url}/v1/agent/bundle`, { ...smallHeaders, ...gz }] },
      { name: `200 gzip, 1,000-policy cluster (${(bigGzip.length / 1024).toFixed(0)} KiB)`, base: [`${baseline.url}/big`, { ...agentHeaders, ...gz }], ours: [`${server.url}/v1/agent/bundle`, { ...agentHeaders, ...gz }] },
    ];
    const lines: Array<[string, string]> = [];
    for (const row of rows) {
      const ratios: number[] = [];
      const ours: number[] = [];
      const bases: number[] = [];
      const p99s: number[] = [];
      let failures = 0;
      for (let i = 0; i < PAIRS; i++) {
        const b = await autocannon(row.base[0], row.base[1], SECONDS);
        const o = await autocannon(row.ours[0], row.ours[1], SECONDS);
        failures += o.errors + (row.name.startsWith('304') ? 0 : o.non2xx);
        ratios.push(o.rps / b.rps);
        ours.push(o.rps);
        bases.push(b.rps);
        p99s.push(o.p99);
      }
      lines.push([row.name, `${fmt(median(ours), 0)} req/s (p99 ${median(p99s)} ms) vs trivial Hono ${fmt(median(bases), 0)} req/s = ${fmt(median(ratios))}x (pairs: ${ratios.map((r) => fmt(r)).join(', ')})${failures ? `, ${failures} failures` : ''}`]);
    }
    server.close();
    smallServer.close();
    baseline.close();
    report(`Bundle polls on the Node server (autocannon in its own process, 20 connections, ${SECONDS} s, ${PAIRS} alternated pairs per row, median ratio)`, lines);

    await simulateInstances(database);
  } finally {
    await database.close();
  }
}
