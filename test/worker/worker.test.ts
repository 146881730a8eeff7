import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
const OPERATOR_KEY = 'operator-worker-test-key';

/** Bundles workers/worker.ts with wrangler, offline, into a gitignored directory inside the repository. */
async function buildWorker(outdir: string): Promise<string> {
  await promisify(execFile)(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' },
    timeout: 120_000,
  });
  return join(outdir, 'worker.js');
}

describe.skipIf(skipWithoutPostgres('test/worker/worker.test.ts'))('the Workers bundle in Miniflare', () => {
  let pgdb: TestPostgres | undefined;
  let mf: Miniflare | undefined;
  let outdir: string | undefined;
  let key: string;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await mf!.dispatchFetch(`http://palisade.test${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    mkdirSync(join(ROOT, '.wrangler'), { recursive: true });
    outdir = mkdtempSync(join(ROOT, '.wrangler/test-'));
    const building = buildWorker(outdir);
    building.catch(() => {}); // awaited below; this only keeps a failure from being reported twice
    const database = (pgdb = await testPostgres());
    const bundle = await building;
    const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(readFileSync(join(ROOT, 'wrangler.toml'), 'utf8'))![1]!;
    mf = new Miniflare({
      modules: [{ type: 'ESModule', path: bundle, contents: readFileSync(bundle, 'utf8') }],
      compatibilityDate,
      bindings: {
        DATABASE_URL: database.url,
        PALISADE_OPERATOR_KEY: OPERATOR_KEY,
        PALISADE_SIGNING_KEY: JSON.stringify((await generateSigningKey()).privateJwk),
        PALISADE_NEON_WS_PROXY: database.proxy.address,
      },
    });
    key = OPERATOR_KEY;
    const created = await call('POST', '/v1/tenants', { name: 'acme' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    key = created.body.apiKey;
  }, 180_000);

  afterAll(async () => {
    await mf?.dispose();
    await pgdb?.close();
    if (outdir) rmSync(outdir, { recursive: true, force: true });
  });

  it('runs a runtime-policy CRUD round trip on Postgres through the Neon driver', async () => {
    const before = pgdb!.proxy.connections;
    const scope = await call('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    expect(scope.status).toBe(201);
    const created = await call('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'audit', scopeIds: [scope.body.id] });
    expect(created.status).toBe(201);
    const path = `/v1/runtime-policies/${created.body.id}`;
    const got = await call('GET', path);
    expect(got.body).toEqual(created.body);
    const etag = got.headers.get('etag')!;
    const updated = await call('PUT', path, { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id] }, { 'if-match': etag });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ mode: 'enforce', revision: 2 });
    expect((await call('PATCH', path, { enabled: false }, { 'if-match': etag })).status).toBe(412);
    const list = await call('GET', '/v1/runtime-policies');
    expect(list.body.items.map((p: { id: string; mode: string }) => [p.id, p.mode])).toEqual([[created.body.id, 'enforce']]);
    expect((await call('DELETE', path)).status).toBe(204);
    expect((await call('GET', path)).status).toBe(404);
    // a Pool per request, each over a WebSocket through the local proxy
    expect(pgdb!.proxy.connections - before).toBeGreaterThanOrEqual(8);
  });

  it('answers problem+json for a missing credential (401) and an unknown route (404)', async () => {
    const res = await mf!.dispatchFetch('http://palisade.test/v1/runtime-policies');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    const unknown = await call('GET', '/v1/no-such-thing');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(unknown.body).toMatchObject({ status: 404 });
  });
});
