import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { AGENT_VERSION, BundleClient, MemoryBundleStore, type BundleClientOptions, type JWKS } from '../src/index.ts';
import { CLUSTER, ISSUER, newKey, nowSeconds, OTHER_CLUSTER, OTHER_TENANT, sign, tamper, TENANT } from './support/bundles.ts';
import { CREDENTIAL, FakeControlPlane, problem } from './support/control-plane.ts';

let key: SigningKey;
let trust: JWKS;
let server: FakeControlPlane;
let good: string;
let store: MemoryBundleStore;

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  server = await new FakeControlPlane(trust).start();
  good = await sign(key, { revision: 5 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.bundleHandler = null;
  server.gzip = true;
  store = new MemoryBundleStore();
});

const client = (extra: Partial<BundleClientOptions> = {}) =>
  new BundleClient({ url: server.url, credential: CREDENTIAL, trust, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, store, maxBytes: 64 * 1024, ...extra });

/** A client that already runs revision 5. */
async function runningRevision5(extra: Partial<BundleClientOptions> = {}) {
  server.serve(good, '"r5"');
  const c = client(extra);
  expect((await c.pollOnce()).outcome).toBe('activated');
  return c;
}

const hang = () => undefined; // never answers
const serveRaw = (body: string | Buffer, headers: Record<string, string | number> = {}) => (_req: unknown, res: ServerResponse) =>
  void res.writeHead(200, { 'content-type': 'application/jose', etag: '"bad"', ...headers }).end(body);

describe('BundleClient tamper matrix: refused, recorded, last good bundle stays active', () => {
  type Case = [name: string, make: () => Promise<void>, code: string, outcome?: 'rejected' | 'failed'];
  const bundle = (jws: () => string | Promise<string>) => async () => server.serve(await jws(), '"bad"');
  const cases: Case[] = [
    ['one payload byte flipped', bundle(() => tamper.payloadByte(good)), 'bad_signature'],
    ['one signature byte flipped', bundle(() => tamper.signatureByte(good)), 'bad_signature'],
    ['signature stripped', bundle(() => tamper.stripSignature(good)), 'bad_signature'],
    ['alg none', bundle(() => tamper.algNone(good)), 'alg_not_allowed'],
    ['HS256 keyed with the public key', bundle(() => tamper.hs256WithPublicKey(good, key.publicJwk.x!)), 'alg_not_allowed'],
    ['unknown kid', bundle(async () => sign((await newKey()).key, { revision: 6 })), 'unknown_key'],
    ["another tenant's bundle", bundle(() => sign(key, { revision: 6, tenantId: OTHER_TENANT })), 'wrong_tenant'],
    ["another cluster's bundle (audience)", bundle(() => sign(key, { revision: 6, clusterId: OTHER_CLUSTER })), 'wrong_cluster'],
    ['expired', bundle(() => sign(key, { revision: 6, issuedAt: nowSeconds() - 7200, ttlSeconds: 3600 })), 'expired'],
    ['older revision', bundle(() => sign(key, { revision: 4 })), 'revision_rollback'],
    ['oversized body (declared)', async () => void ((server.bundleHandler = serveRaw('x'.repeat(100_000))), 0), 'too_large'],
    ['oversized body (gzip, counted while reading)', async () => { server.bundle = { jws: 'x'.repeat(1_000_000), etag: '"big"' }; }, 'too_large'],
    ['truncated body', bundle(() => tamper.truncate(good)), 'malformed'],
    ['connection cut mid-body', async () => {
      server.bundleHandler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/jose', 'content-length': good.length });
        res.write(good.slice(0, 100), () => res.destroy());
      };
    }, 'network', 'failed'],
    ['server 500', async () => { server.bundleHandler = (_req, res) => problem(res, 500, 'Internal Server Error', 'database unavailable'); }, 'http_error', 'failed'],
    ['timeout (download deadline)', async () => { server.bundleHandler = hang; }, 'timeout', 'failed'],
    ['timeout mid-body', async () => {
      server.bundleHandler = (_req, res) => void res.writeHead(200, { 'content-type': 'application/jose' }).write(good.slice(0, 50));
    }, 'timeout', 'failed'],
  ];

  it.each(cases)('%s', async (_name, make, code, outcome = 'rejected') => {
    const c = await runningRevision5({ downloadTimeoutMs: 1500 }); // generous: machines are shared
    await make();
    const result = await c.pollOnce();
    expect(result.outcome).toBe(outcome);
    expect(result.outcome === 'rejected' || result.outcome === 'failed' ? (result.error as { code?: string }).code : undefined).toBe(code);
    expect(c.active?.revision).toBe(5);
    expect((await store.load())?.revision).toBe(5);
    const status = c.status();
    expect(status).toMatchObject({ activeRevision: 5, lastError: { code, at: expect.any(String) } });
    expect(status.counters).toMatchObject({ polls: 2, activations: 1, [outcome === 'rejected' ? 'rejections' : 'errors']: 1 });
    // and it recovers on the next good answer
    server.bundleHandler = null;
    server.serve(await sign(key, { revision: 6 }), '"r6"');
    expect((await c.pollOnce()).outcome).toBe('activated');
    expect(c.status()).toMatchObject({ activeRevision: 6, lastError: null });
  });
});

describe('BundleClient polling', () => {
  it('sends the credential, accepts gzip, and uses If-None-Match for 304s', async () => {
    const c = await runningRevision5();
    const first = server.requests.at(-1)!;
    expect(first.headers).toMatchObject({ authorization: `Bearer ${CREDENTIAL}`, 'accept-encoding': expect.stringContaining('gzip') });
    expect(first.headers['if-none-match']).toBeUndefined();
    expect(await c.pollOnce()).toEqual({ outcome: 'not_modified' });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"r5"');
    expect(c.status()).toMatchObject({
      activeRevision: 5,
      activeDigest: expect.stringMatching(/^sha256:/),
      lastDownloadAt: expect.any(String),
      lastActivationAt: expect.any(String),
      lastError: null,
      counters: { polls: 2, notModified: 1, downloads: 1, activations: 1, rejections: 0, errors: 0 },
      agentVersion: AGENT_VERSION,
    });
  });

  it('keeps the last good ETag after a refusal, so the bad bundle is not 304-ed into place', async () => {
    const c = await runningRevision5();
    server.serve(tamper.signatureByte(good), '"bad"');
    await c.pollOnce();
    await c.pollOnce();
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"r5"');
  });

  it('shares one request between concurrent polls, and long-polls with ?wait', async () => {
    server.serve(good, '"r5"');
    const c = client({ waitSeconds: 5 });
    const before = server.requests.length;
    const [a, b] = await Promise.all([c.pollOnce(), c.pollOnce()]);
    expect(a).toBe(b);
    expect(server.requests.length).toBe(before + 1);
    expect(server.requests.at(-1)!.url).toBe('/v1/agent/bundle?wait=5');
    expect(c.nextDelay()).toBeLessThan(1000);
  });
});

describe('BundleClient with a fetch that does not decode gzip', () => {
  const gzipFetch = (body: Uint8Array): typeof fetch => async () =>
    new Response(body as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/jose', 'content-encoding': 'gzip', etag: '"z"' } });

  it('inflates the body itself, under the size limit (a gzip bomb stops at the limit)', async () => {
    expect((await client({ fetch: gzipFetch(gzipSync(good)) }).pollOnce()).outcome).toBe('activated');
    const bomb = gzipSync(Buffer.alloc(50_000_000, 'x'));
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(await client({ fetch: gzipFetch(bomb) }).pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'too_large' } });
    expect(await client({ fetch: gzipFetch(gzipSync(good).subarray(0, 200)) }).pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'malformed' } });
  });

  it('reports the agent version of agent-sdk/package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(client().status().agentVersion).toBe(pkg.version);
  });
});
