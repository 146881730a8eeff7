import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pollAnsweringServer } from '../../workers/node/poll-listener.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

/**
 * The Node entry answers unchanged bundle polls before Hono sees them: over real HTTP, the answer must be the app's
 * own 304, and every request memory cannot vouch for (another ETag, a query, HEAD, a revoked credential) must reach
 * the app. `fetched` counts the requests that did.
 */
const database = await testPglite();
const h = harness(database);
let fetched = 0;
let base = '';
let acme: TenantClient;
const server = serve({ fetch: (req) => (fetched++, h.app.fetch(req)), port: 0, hostname: '127.0.0.1', createServer: pollAnsweringServer(h.app) });
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await database.close();
});

beforeAll(async () => {
  await new Promise<void>((resolve) => (server.listening ? resolve() : server.once('listening', () => resolve())));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  acme = await h.tenant('acme');
  const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
  await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
});

const poll = (credential: string, init: { path?: string; etag?: string; method?: string } = {}) =>
  fetch(`${base}${init.path ?? '/v1/agent/bundle'}`, { method: init.method ?? 'GET', headers: { authorization: `Bearer ${credential}`, ...(init.etag ? { 'if-none-match': init.etag } : {}) } });

describe('unchanged polls answered by the Node listener', () => {
  it('gives the app’s 304, headers and all, without reaching the app', async () => {
    const agent = await enrolledCluster(h, acme, 'prod-fast');
    const first = await poll(agent.credential);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag')!;
    const viaApp = await h.app.request('/v1/agent/bundle', { headers: { authorization: `Bearer ${agent.credential}`, 'if-none-match': etag } });
    expect(viaApp.status).toBe(304);
    const before = fetched;
    for (let i = 0; i < 5; i++) {
      const res = await poll(agent.credential, { etag });
      expect(res.status).toBe(304);
      expect(await res.text()).toBe('');
      for (const name of ['etag', 'cache-control', 'palisade-bundle-revision']) expect(res.headers.get(name)).toBe(viaApp.headers.get(name));
      expect(res.headers.get('palisade-bundle-revision')).toBe(first.headers.get('palisade-bundle-revision'));
    }
    expect(fetched).toBe(before);
  });

  it('leaves to the app what memory cannot answer: another ETag, a query string, HEAD, another path', async () => {
    const agent = await enrolledCluster(h, acme, 'prod-slow');
    const etag = (await poll(agent.credential)).headers.get('etag')!;
    await poll(agent.credential, { etag }); // remembered
    const cases = [
      { init: { etag: '"0.0"' }, status: 200 },
      { init: { etag, path: '/v1/agent/bundle?wait=0' }, status: 304 },
      { init: { etag, path: '/v1/agent/bundle/' }, status: 404 },
      { init: { etag, method: 'HEAD' }, status: 304 },
    ];
    for (const { init, status } of cases) {
      const before = fetched;
      expect((await poll(agent.credential, init)).status).toBe(status);
      expect(fetched, JSON.stringify(init)).toBe(before + 1);
    }
    const stranger = await poll('pca_not-a-credential', { etag });
    expect(stranger.status).toBe(401);
  });

  it('stops answering a revoked credential at once', async () => {
    const agent = await enrolledCluster(h, acme, 'prod-revoked');
    const etag = (await poll(agent.credential)).headers.get('etag')!;
    expect((await poll(agent.credential, { etag })).status).toBe(304);
    const [credential] = (await acme.json('GET', `/v1/clusters/${agent.clusterId}/credentials`)).body.items;
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${credential.id}/revoke`)).status).toBe(204);
    const before = fetched;
    expect((await poll(agent.credential, { etag })).status).toBe(401);
    expect(fetched).toBe(before + 1);
  });

  it('answers everything else through the app', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
});
