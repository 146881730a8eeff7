import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { auditEvent } from './support.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const OPERATOR_KEY = 'operator-audit-worker-test-key';
const DAY = 86_400_000;

/** The Workers glue of audit: ingest through the bundle, and retention on the hourly cron trigger of wrangler.toml. */
describe.skipIf(skipWithoutPostgres('test/audit/worker-retention.test.ts'))('audit in the Workers bundle (Miniflare)', () => {
  let pgdb: TestPostgres | undefined;
  let mf: Miniflare | undefined;
  let outdir: string | undefined;

  const call = async (key: string, method: string, path: string, body?: unknown) => {
    const res = await mf!.dispatchFetch(`http://palisade.test${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.wrangler'), { recursive: true });
    outdir = mkdtempSync(join(ROOT, '.wrangler/test-'));
    const building = promisify(execFile)(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' },
      timeout: 120_000,
    });
    building.catch(() => {});
    pgdb = await testPostgres();
    await building;
    const bundle = join(outdir, 'worker.js');
    const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))![1]!;
    mf = new Miniflare({
      modules: [{ type: 'ESModule', path: bundle, contents: readFileSync(bundle, 'utf8') }],
      compatibilityDate,
      bindings: {
        DATABASE_URL: pgdb.url,
        PALISADE_OPERATOR_KEY: OPERATOR_KEY,
        PALISADE_SIGNING_KEY: JSON.stringify((await generateSigningKey()).privateJwk),
        PALISADE_NEON_WS_PROXY: pgdb.proxy.address,
      },
    });
  }, 180_000);

  afterAll(async () => {
    await mf?.dispose();
    await pgdb?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('ingests gzip NDJSON through the bundle and deletes old raw events on the retention cron, keeping rollups', async () => {
    const tenant = await call(OPERATOR_KEY, 'POST', '/v1/tenants', { name: 'acme' });
    expect(tenant.status).toBe(201);
    const key = tenant.body.apiKey as string;
    expect((await call(key, 'PUT', '/v1/settings/audit', { auditRetentionDays: 5 })).status).toBe(200);
    const cluster = await call(key, 'POST', '/v1/clusters', { name: 'prod' });
    const token = await call(key, 'POST', `/v1/clusters/${cluster.body.id}/enrollment-tokens`, {});
    const enrolled = await call('', 'POST', '/v1/agent/enroll', { token: token.body.token });
    expect(enrolled.status).toBe(201);

    const now = Date.now();
    const events = [1, 4, 6, 30].map((age) => auditEvent(new Date(now - age * DAY)));
    const body = new Response(new Blob([events.map((e) => JSON.stringify(e)).join('\n')]).stream().pipeThrough(new CompressionStream('gzip')));
    const res = await mf!.dispatchFetch('http://palisade.test/v1/agent/events', {
      method: 'POST',
      headers: { authorization: `Bearer ${enrolled.body.credential}`, 'content-type': 'application/x-ndjson', 'content-encoding': 'gzip' },
      body: new Uint8Array(await body.arrayBuffer()),
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 4, duplicates: 0, rejected: [] });
    const rollups = async () => (await pgdb!.admin.query('select count(*)::int as n, sum(count)::int as total from audit_rollups')).rows[0];
    const before = await rollups();

    const worker = (await mf!.getWorker()) as unknown as { scheduled(options: { cron: string; scheduledTime?: Date }): Promise<unknown> };
    await worker.scheduled({ cron: '17 * * * *', scheduledTime: new Date(now) });
    const left = async () => (await pgdb!.admin.query('select id from audit_events order by time desc')).rows.map((r: { id: string }) => r.id);
    await expect.poll(left, { timeout: 10_000 }).toEqual([events[0]!.id, events[1]!.id]);
    expect(await rollups()).toEqual(before);
    // Every other cron is the webhook dispatcher's and leaves audit events alone.
    await worker.scheduled({ cron: '* * * * *', scheduledTime: new Date(now + 365 * DAY) });
    expect((await pgdb!.admin.query('select count(*)::int as n from audit_events')).rows[0].n).toBe(2);
  }, 60_000);
});
