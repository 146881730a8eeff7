import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { drizzle } from 'drizzle-orm/pglite';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { canonicalJson, contentDigest } from '../schema/canonical-json.ts';
import { createApp } from '../workers/app.ts';
import { compileBundle } from '../workers/bundles/bundle.compile.ts';
import { signBundle } from '../workers/bundles/bundle.sign.ts';
import { loadBundleSources } from '../workers/bundles/bundle.store.ts';
import { inTenant, type Db } from '../workers/db/db.ts';
import { openPglite } from '../workers/node.ts';
import { seedTenant } from './seed.ts';
import { fmt, median, report, timeRuns } from './stats.ts';

const RUNS = 7;

/** autocannon as a separate process, so client and server do not share an event loop. */
async function autocannon(url: string, headers: Record<string, string>, seconds: number): Promise<{ rps: number; p99: number }> {
  const args = ['-j', '-c', '20', '-d', String(seconds), ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]), url];
  const child = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const result = JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number };
  return { rps: result.requests.average, p99: result.latency.p99 };
}

async function listen(fetch: (req: Request) => Response | Promise<Response>): Promise<{ url: string; close: () => void }> {
  return new Promise((resolve) => {
    const server = serve({ fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => server.close() }));
  });
}

export async function benchBundles(): Promise<void> {
  const database = await openPglite();
  try {
    const big = await seedTenant(database, { policies: 1000, profiles: 200 });
    const tenantId = (await (await big.app.request(`/v1/clusters/${big.clusterId}`, { headers: { authorization: `Bearer ${big.key}` } })).json()) as { id: string };
    void tenantId;
    const agentHeaders = { authorization: `Bearer ${big.credential}` };
    const first = await big.app.request('/v1/agent/bundle', { headers: agentHeaders });
    const jws = await first.text();
    const claims = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { tid: string };
    const tid = claims.tid;

    // Compile and sign, step by step, against one serialization of the same content as the baseline.
    const sources = (await inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId)))!;
    const content = compileBundle(sources);
    const load = await timeRuns(RUNS, () => inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId)));
    const compile = await timeRuns(RUNS, () => compileBundle(sources));
    const canon = await timeRuns(RUNS, () => canonicalJson(content));
    const digest = await timeRuns(RUNS, () => contentDigest(content));
    const sign = await timeRuns(RUNS, () => signBundle(big.keys.current, { issuer: 'x', tenantId: tid, clusterId: big.clusterId, revision: 1, digest: 'sha256:' + '0'.repeat(64), content, issuedAt: 1, ttlSeconds: 60 }));
    const stringify = await timeRuns(RUNS, () => JSON.stringify(content));
    const full = await timeRuns(RUNS, async () => {
      await database.client.query('update cluster_bundles set stale = true');
      big.app.bundles.changes.tenantChanged(tid);
      await big.app.bundles.current(database.db, tid, big.clusterId);
    });
    const base = median(stringify);
    report(`Bundle compile and sign: 1,000 policies, 200 profiles (${(jws.length / 1024).toFixed(0)} KiB JWS), median of ${RUNS}`, [
      ['load sources (PGlite)', `${fmt(median(load))} ms`],
      ['compile', `${fmt(median(compile))} ms`],
      ['canonical JSON', `${fmt(median(canon))} ms`],
      ['digest (canonical + SHA-256)', `${fmt(median(digest))} ms`],
      ['sign (JWS EdDSA)', `${fmt(median(sign))} ms`],
      ['full refresh (load+compile+digest+sign+store)', `${fmt(median(full))} ms = ${fmt(median(full) / base, 1)}x baseline`],
      ['baseline: JSON.stringify of the content', `${fmt(base)} ms`],
    ]);

    // Queries per 304 poll: the same database through a counting logger.
    let queries = 0;
    const counted = drizzle(database.client, { logger: { logQuery: () => void queries++ } }) as unknown as Db;
    const countingApp = createApp({ database: { open: () => ({ db: counted, close: async () => {} }) }, config: {}, signing: { issuer: 'https://bench', keys: big.keys } });
    const etag = (await countingApp.request('/v1/agent/bundle', { headers: agentHeaders })).headers.get('etag')!;
    const warm = queries;
    for (let i = 0; i < 100; i++) await countingApp.request('/v1/agent/bundle', { headers: { ...agentHeaders, 'if-none-match': etag } });
    report('Database queries per poll', [
      ['first poll (credential + bundle read)', String(warm)],
      ['per 304 poll, mean of the next 100', fmt((queries - warm) / 100)],
    ]);

    // Polls per second over loopback against a trivial Hono server as the ceiling.
    const small = await seedTenant(database, { policies: 10, profiles: 5 });
    const server = await listen(big.app.fetch);
    const trivial = new Hono().get('/v1/agent/bundle', (c) => c.body(null, 304, { etag: '"1.1"' }));
    const baseline = await listen(trivial.fetch);
    const smallEtag = (await small.app.request('/v1/agent/bundle', { headers: { authorization: `Bearer ${small.credential}` } })).headers.get('etag')!;
    const smallServer = await listen(small.app.fetch);
    const seconds = 5;
    const results = {
      trivial: await autocannon(`${baseline.url}/v1/agent/bundle`, {}, seconds),
      small304: await autocannon(`${smallServer.url}/v1/agent/bundle`, { authorization: `Bearer ${small.credential}`, 'if-none-match': smallEtag }, seconds),
      small200: await autocannon(`${smallServer.url}/v1/agent/bundle`, { authorization: `Bearer ${small.credential}`, 'accept-encoding': 'gzip' }, seconds),
      big304: await autocannon(`${server.url}/v1/agent/bundle`, { ...agentHeaders, 'if-none-match': etag }, seconds),
      big200: await autocannon(`${server.url}/v1/agent/bundle`, { ...agentHeaders, 'accept-encoding': 'gzip' }, seconds),
    };
    server.close();
    smallServer.close();
    baseline.close();
    const row = (r: { rps: number; p99: number }) => `${fmt(r.rps, 0)} req/s, p99 ${r.p99} ms, ${fmt(r.rps / results.trivial.rps)}x of trivial`;
    report(`Bundle polls on the Node server (autocannon, 20 connections, ${seconds} s each)`, [
      ['baseline: trivial Hono 304', `${fmt(results.trivial.rps, 0)} req/s, p99 ${results.trivial.p99} ms`],
      ['304, 10-policy cluster', row(results.small304)],
      ['200 gzip, 10-policy cluster', row(results.small200)],
      ['304, 1,000-policy cluster', row(results.big304)],
      ['200 gzip, 1,000-policy cluster', row(results.big200)],
    ]);
  } finally {
    await database.close();
  }
}
