import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pinnedFetch } from '../../workers/node.ts';
import { dispatchDue } from '../../workers/webhooks/dispatcher.ts';
import type { Resolve } from '../../workers/webhooks/ssrf.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { testClock, testDeps } from './support.ts';

/**
 * DNS rebinding against the Node dispatcher (pinnedFetch in workers/node.ts): the name answers a public address to the
 * SSRF guard and a loopback one when fetch connects. The receiver is an https server on 127.0.0.1 with a certificate
 * for receiver.test; the names reach it only through the injected resolver. The loopback setting is off throughout,
 * except where a test turns it on to show what would otherwise happen.
 */
const database = await testPglite();
const h = harness(database);
let acme: TenantClient;
let server: Server;
let port: number;
let ca: string;
const seen = { connections: 0, requests: [] as string[] };
const hooks: string[] = [];

beforeAll(async () => {
  acme = await h.tenant('acme');
  const pems = await generate([{ name: 'commonName', value: 'receiver.test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'receiver.test' }] }],
  });
  ca = pems.cert;
  server = createServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    seen.requests.push(String(req.headers.host));
    req.resume().on('end', () => res.writeHead(204).end());
  });
  server.on('connection', () => seen.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  for (const id of hooks.splice(0)) await acme.request('DELETE', `/v1/webhooks/${id}`);
  seen.connections = 0;
  seen.requests.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await database.close();
});

/** A name that answers `first` to its first lookup and `then` to every later one; counts lookups. */
function rebinding(first: string[], then: string[]): Resolve & { calls: number } {
  const resolve = Object.assign(async () => (resolve.calls++ === 0 ? first : then), { calls: 0 });
  return resolve;
}

/** A test delivery to `https://<host>:<port>/hook`, sent by one dispatcher pass with the loopback setting `allowLoopback`. */
async function sendOnce(host: string, resolve: Resolve, fetch: ReturnType<typeof pinnedFetch>, allowLoopback = false) {
  const hook = await acme.json('POST', '/v1/webhooks', { name: `hook-${hooks.length}-${host}`, url: `https://${host}:${port}/hook` });
  expect(hook.status, JSON.stringify(hook.body)).toBe(201);
  hooks.push(hook.body.webhook.id);
  const ping = await acme.json('POST', `/v1/webhooks/${hook.body.webhook.id}/test`);
  try {
    const deps = testDeps(testClock(new Date(Date.now() + 1000)), { fetch, resolve, allowLoopback });
    expect(await dispatchDue(database.db, deps)).toMatchObject({ attempted: 1 });
  } finally {
    await fetch.close();
  }
  return (await acme.json('GET', `/v1/webhooks/${hook.body.webhook.id}/deliveries/${ping.body.id}`)).body;
}

const PUBLIC = ['93.184.215.14'];

describe('the Node dispatcher under DNS rebinding', () => {
  it('(control) reaches the loopback receiver when the connection is not checked again', async () => {
    // The guard runs strict; only the connect-time lookup lets loopback through, as a second, unchecked lookup would.
    const resolve = rebinding(PUBLIC, ['127.0.0.1']);
    const delivery = await sendOnce('receiver.test', resolve, pinnedFetch({ resolve, allowLoopback: true, ca }));
    expect(delivery).toMatchObject({ status: 'delivered', lastStatusCode: 204 });
    expect(seen.requests).toEqual([`receiver.test:${port}`]);
    expect(resolve.calls).toBe(2);
  });

  it.each([[['127.0.0.1']], [['::ffff:127.0.0.1']], [['93.184.215.14', '127.0.0.1']]])('does not connect when the second answer is %j', async (then) => {
    const resolve = rebinding(PUBLIC, then);
    const delivery = await sendOnce('receiver.test', resolve, pinnedFetch({ resolve, allowLoopback: false, ca }));
    expect(resolve.calls).toBe(2);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(delivery.lastError).toMatch(/^not sent: at connect time, receiver\.test resolves to a loopback address/);
    expect(seen).toEqual({ connections: 0, requests: [] });
  });

  it('still verifies the certificate against the host name, not the address connected to', async () => {
    const loopback: Resolve = async () => ['127.0.0.1'];
    const good = await sendOnce('receiver.test', loopback, pinnedFetch({ resolve: loopback, allowLoopback: true, ca }), true);
    expect(good).toMatchObject({ status: 'delivered', lastStatusCode: 204 });
    const wrongName = await sendOnce('other.test', loopback, pinnedFetch({ resolve: loopback, allowLoopback: true, ca }), true);
    expect(wrongName).toMatchObject({ status: 'pending', lastStatusCode: null });
    expect(wrongName.lastError).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate/);
    expect(seen.requests).toEqual([`receiver.test:${port}`]);
  });
});
