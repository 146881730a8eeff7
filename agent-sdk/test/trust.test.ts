import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { BundleClient, MemoryBundleStore, verifyBundle, type BundleClientOptions, type JWKS } from '../src/index.ts';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';

let a: SigningKey, b: SigningKey, c: SigningKey;
let server: FakeControlPlane;
let saved: JWKS[];
const anchor = (...keys: SigningKey[]): JWKS => ({ keys: keys.map((k) => k.publicJwk) });
const kids = (jwks: JWKS) => jwks.keys.map((k) => k.kid);
const jwksRequests = () => server.requests.filter((r) => r.path === '/.well-known/jwks.json');

beforeAll(async () => {
  [a, b, c] = (await Promise.all([newKey(), newKey(), newKey()])).map((k) => k.key) as [SigningKey, SigningKey, SigningKey];
  server = await new FakeControlPlane(anchor(a)).start();
});
afterAll(() => server.close());
beforeEach(() => {
  saved = [];
  server.jwks.keys = anchor(a).keys;
  server.requests.length = 0;
});

const client = (trust: JWKS, extra: Partial<BundleClientOptions> = {}) =>
  new BundleClient({ url: server.url, credential: CREDENTIAL, trust, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, store: new MemoryBundleStore(), trustStore: { save: async (j) => void saved.push(j) }, ...extra });

describe('trust anchor refresh', () => {
  it('on unknown_key refreshes once (with the credential), saves the anchor, then verifies again', async () => {
    server.jwks.keys = anchor(b, a).keys;
    server.serve(await sign(b, { revision: 2 }), '"r2"');
    const agent = client(anchor(a));
    const result = await agent.pollOnce();
    expect(result).toMatchObject({ outcome: 'activated', bundle: { kid: b.kid, revision: 2 } });
    expect(jwksRequests()).toHaveLength(1);
    expect(jwksRequests()[0]!.headers.authorization).toBe(`Bearer ${CREDENTIAL}`);
    expect(saved.map(kids)).toEqual([[b.kid, a.kid]]);
    expect(kids(agent.trustAnchor)).toEqual([b.kid, a.kid]);
  });

  it('leaves the refusal standing when the refresh brings nothing new, or fails, and says so', async () => {
    server.serve(await sign(c, { revision: 3 }), '"r3"');
    expect(await client(anchor(a)).pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'unknown_key', message: expect.stringMatching(/not even after refreshing the trust anchor$/) } });
    expect(saved).toEqual([]);
    const failing: typeof fetch = async (input, init) => (String(input).endsWith('/jwks.json') ? new Response('down', { status: 503 }) : fetch(input, init));
    const agent = client(anchor(a), { fetch: failing });
    expect(await agent.pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'unknown_key', message: expect.stringContaining('refreshing the trust anchor failed: trust refresh: HTTP 503') } });
    expect(agent.status().lastError).toMatchObject({ code: 'unknown_key' });
  });

  it('never drops or replaces the key of the active bundle, until a bundle signed by another key is active', async () => {
    server.serve(await sign(a, { revision: 4 }), '"r4"');
    const agent = client(anchor(a));
    expect((await agent.pollOnce()).outcome).toBe('activated');
    server.jwks.keys = anchor(c).keys; // a JWKS that would brick the agent if taken as is
    expect(await agent.refreshTrust()).toEqual({ changed: true, keys: [c.kid, a.kid], added: [c.kid], removed: [], kept: [a.kid] });
    server.jwks.keys = [{ ...c.publicJwk, kid: a.kid }]; // other material under the active key's kid
    expect(await agent.refreshTrust()).toMatchObject({ keys: [a.kid], removed: [c.kid], kept: [a.kid] });
    expect(agent.trustAnchor.keys[0]).toEqual(a.publicJwk);
    await expect(verifyBundle(agent.active!.jws, { trust: agent.trustAnchor, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, maxBytes: 1e6, now: new Date() })).resolves.toBeTruthy();

    server.jwks.keys = anchor(c).keys;
    server.serve(await sign(c, { revision: 5 }), '"r5"');
    expect((await agent.pollOnce()).outcome).toBe('activated'); // c is trusted now (added next to the pinned a)
    expect(await agent.refreshTrust()).toEqual({ changed: true, keys: [c.kid], added: [], removed: [a.kid], kept: [] });
  });

  it('takes keys over HTTPS only, or plain HTTP to a loopback address', async () => {
    const never: typeof fetch = () => Promise.reject(new Error('must not be called'));
    const remote = client(anchor(a), { url: 'http://palisade.example.com', fetch: never });
    await expect(remote.refreshTrust()).rejects.toMatchObject({ code: 'insecure' });
    expect(remote.status().lastError).toMatchObject({ code: 'insecure', message: expect.stringContaining('not HTTPS') });
    let asked = '';
    const recording: typeof fetch = async (input) => ((asked = String(input)), Response.json(anchor(a, b)));
    await client(anchor(a), { url: 'https://palisade.example.com/base/', fetch: recording }).refreshTrust();
    expect(asked).toBe('https://palisade.example.com/base/.well-known/jwks.json');
    await client(anchor(a), { url: 'http://palisade.example.com', fetch: recording, allowHttpTrustRefresh: true }).refreshTrust();
  });

  it('refuses a JWKS with private keys or none at all', async () => {
    for (const body of [{ keys: [] }, { keys: [{ ...b.publicJwk, d: 'c2VjcmV0' }] }, 'not json']) {
      const jwksFetch: typeof fetch = async () => new Response(typeof body === 'string' ? body : JSON.stringify(body));
      await expect(client(anchor(a), { fetch: jwksFetch }).refreshTrust()).rejects.toMatchObject({ code: 'http_error', message: expect.stringMatching(/^trust refresh: /) });
    }
    expect(saved).toEqual([]);
  });

  it('refreshes hourly by default (injectable), and a failed save keeps the old anchor, reported until a refresh works', async () => {
    let now = 1_000_000;
    server.serve(await sign(a, { revision: 6 }), '"r6"');
    const hourly = client(anchor(a), { now: () => now });
    await hourly.pollOnce();
    now += 3_600_000 - 1;
    await hourly.pollOnce();
    expect(jwksRequests()).toHaveLength(0);
    now += 1;
    server.jwks.keys = anchor(a, b).keys;
    await hourly.pollOnce();
    expect(jwksRequests()).toHaveLength(1);
    expect(server.requests.at(-1)!.path).toBe('/v1/agent/bundle'); // the refresh came first
    expect(kids(hourly.trustAnchor)).toEqual([a.kid, b.kid]);

    let fail = true;
    const agent = client(anchor(a), { now: () => now, trustRefreshMs: 1000, trustStore: { save: async () => { if (fail) throw new Error('read-only file system'); } } });
    await agent.pollOnce();
    now += 1000;
    expect((await agent.pollOnce()).outcome).toBe('not_modified');
    expect(kids(agent.trustAnchor)).toEqual([a.kid]);
    expect(agent.status().lastError).toMatchObject({ code: 'persist_failed', message: expect.stringContaining('read-only file system') });
    fail = false;
    await agent.refreshTrust();
    expect(kids(agent.trustAnchor)).toEqual([a.kid, b.kid]);
    expect(agent.status().lastError).toBeNull();
  });
});
