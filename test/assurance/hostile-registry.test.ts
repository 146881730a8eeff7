import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../workers/registries/oci-client.ts';

/**
 * A registry that is out to get us: redirects into the network, pagination links to other hosts, endless answers,
 * path tricks in repository names, and a token realm on a private address. The client must refuse each.
 */
let base = '';
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const server = createServer((req, res) => handler(req, res));
beforeAll(() => new Promise<void>((r) => server.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  r();
})));
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const client = (allowLoopback = true) => new RegistryClient({ base, fetch, resolve: async () => ['127.0.0.1'], allowLoopback });

describe('the registry client against a hostile registry', () => {
  it('does not follow redirects', async () => {
    handler = (_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    await expect(client().catalog(10)).rejects.toThrow(/redirect \(302\); redirects are not followed/);
  });

  it('does not follow pagination links to another host', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/json', link: '<http://10.0.0.1/v2/_catalog?last=a>; rel="next"' }).end(JSON.stringify({ repositories: ['a'] }));
    await expect(client().catalog(10)).rejects.toThrow(/pagination link points at another host/);
  });

  it('stops reading an answer past 4 MiB', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const more = () => {
        while (sent < 8 && res.write(chunk)) sent++;
        if (sent < 8) res.once('drain', () => { sent++; more(); });
        else res.end();
      };
      more();
    };
    await expect(client().catalog(10)).rejects.toThrow(/exceeds 4194304 bytes/);
  });

  it('refuses a token realm on a private address, and loopback without the development setting', async () => {
    handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://10.1.2.3/token",service="x"' }).end();
    await expect(client().tags('team/a', 10)).rejects.toThrow(/10\.1\.2\.3/);
    await expect(client(false).tags('team/a', 10)).rejects.toThrow(/must use https/);
  });

  it('pages through tags with Link headers up to the limit', async () => {
    handler = (req, res) => {
      const url = new URL(req.url!, base);
      const last = url.searchParams.get('last');
      const page = last === null ? ['a', 'b'] : last === 'b' ? ['c', 'd'] : ['e'];
      const next = last === null ? 'b' : last === 'b' ? 'd' : undefined;
      res.writeHead(200, { 'content-type': 'application/json', ...(next ? { link: `</v2/team/a/tags/list?n=2&last=${next}>; rel="next"` } : {}) }).end(JSON.stringify({ name: 'team/a', tags: page }));
    };
    expect(await client().tags('team/a', 10)).toEqual({ items: ['a', 'b', 'c', 'd', 'e'], truncated: false });
    expect(await client().tags('team/a', 3)).toEqual({ items: ['a', 'b', 'c'], truncated: true });
  });
});
