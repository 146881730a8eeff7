import { describe, expect, it } from 'vitest';
import { classifyAddress, parseIPv6 } from '../../workers/webhooks/ip.ts';
import { guardDestination, RefusedDestination, urlProblem, type Resolve } from '../../workers/webhooks/ssrf.ts';

const hostOf = (url: string) => new URL(url).hostname;

describe('the IP classifier', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['169.254.169.254', 'linkLocal'],
    ['169.254.0.1', 'linkLocal'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['::ffff:10.1.2.3', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal'],
    ['64:ff9b::808:808', 'public'],
    ['2002:7f00:1::', 'loopback'],
    ['::127.0.0.1', 'reserved'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['febf::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378::1', 'reserved'],
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:82b::200e', 'public'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });

  it.each(['example.com', '127.1', '0177.0.0.1', '2130706433', '0x7f.0.0.1', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', ':::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '::ffff:1.2.3', 'g::1', '12345::1', ''])(
    '%s is not a canonical address (the guard refuses it as a resolver answer)',
    (text) => {
      expect(classifyAddress(text)).toBeUndefined();
    },
  );

  it('expands IPv6 compression and embedded IPv4 tails', () => {
    expect(parseIPv6('1::')).toEqual([0, 1, ...new Array(14).fill(0)]);
    expect(parseIPv6('::ffff:1.2.3.4')!.slice(10)).toEqual([0xff, 0xff, 1, 2, 3, 4]);
    expect(parseIPv6('1:2:3:4:5:6:7::')).toHaveLength(16);
    expect(parseIPv6('1.2.3.4::')).toBeUndefined();
  });

  it('sees what the URL parser makes of decimal, octal, hex and short IPv4 hosts, and of IPv6 forms', () => {
    for (const url of ['https://2130706433/', 'https://0x7f.1/', 'https://017700000001/', 'https://0177.0.0.1/', 'https://127.1/', 'https://%31%32%37.0.0.1/']) {
      expect(hostOf(url), url).toBe('127.0.0.1');
      expect(classifyAddress(hostOf(url))).toBe('loopback');
    }
    expect(hostOf('https://[::ffff:127.0.0.1]/')).toBe('[::ffff:7f00:1]');
    expect(classifyAddress(hostOf('https://[::ffff:127.0.0.1]/'))).toBe('loopback');
    expect(classifyAddress(hostOf('https://[0:0:0:0:0:ffff:a9fe:a9fe]/'))).toBe('linkLocal');
    expect(classifyAddress(hostOf('https://0/'))).toBe('unspecified');
    expect(classifyAddress(hostOf('https://169.254.169.254./'))).toBe('linkLocal');
  });
});

const resolver = (table: Record<string, string[]>): Resolve => async (host) => {
  const found = table[host];
  if (!found) throw new Error('ENOTFOUND');
  return found;
};
const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

describe('the SSRF guard', () => {
  it('refuses at write time what needs no DNS', () => {
    expect(urlProblem('https://hooks.example.com/x', strict)).toBeUndefined();
    expect(urlProblem('http://hooks.example.com/x', strict)).toMatch(/https/);
    expect(urlProblem('http://hooks.example.com/x', dev)).toMatch(/loopback receivers only/);
    expect(urlProblem('ftp://hooks.example.com/x', dev)).toMatch(/https/);
    expect(urlProblem('https://user:pw@hooks.example.com/', strict)).toMatch(/credentials/);
    for (const url of ['https://127.0.0.1/', 'https://2130706433/', 'https://[::1]/', 'https://[::ffff:127.0.0.1]/', 'https://localhost/', 'https://a.localhost/']) {
      expect(urlProblem(url, strict), url).toMatch(/loopback/);
      expect(urlProblem(url, dev), url).toBeUndefined();
    }
    for (const url of ['https://10.0.0.1/', 'https://192.168.0.10/', 'https://100.64.1.1/', 'https://[fd00::1]/', 'https://[fe80::1]/', 'https://0.0.0.0/']) {
      expect(urlProblem(url, dev), url).toMatch(/must not point at/);
    }
    expect(urlProblem('https://169.254.169.254/latest/meta-data/', dev)).toMatch(/metadata/);
    for (const url of ['https://metadata.google.internal/computeMetadata/v1/', 'https://METADATA.google.internal./', 'https://metadata/', 'https://instance-data/']) {
      expect(urlProblem(url, dev), url).toMatch(/metadata service/);
    }
    expect(urlProblem('http://127.0.0.1:8080/hook', dev)).toBeUndefined();
  });

  it('checks every resolved address before an attempt', async () => {
    const resolve = resolver({
      'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
      'mixed.example.com': ['93.184.215.14', '10.0.0.7'],
      'rebind.example.com': ['169.254.169.254'],
      'v6.example.com': ['::ffff:127.0.0.1'],
      'ula.example.com': ['fd12:3456::1'],
      'loop.example.com': ['127.0.0.1'],
      'junk.example.com': ['not-an-address'],
      'none.example.com': [],
      localhost: ['127.0.0.1', '::1'],
    });
    await expect(guardDestination('https://hooks.example.com/x', { ...strict, resolve })).resolves.toBeInstanceOf(URL);
    const refused = async (url: string, opts = strict) => {
      const err = await guardDestination(url, { ...opts, resolve }).then(() => undefined, (e: unknown) => e);
      expect(err, url).toBeInstanceOf(RefusedDestination);
      return (err as Error).message;
    };
    expect(await refused('https://mixed.example.com/')).toMatch(/private address \(10\.0\.0\.7\)/);
    expect(await refused('https://rebind.example.com/')).toMatch(/link-local or metadata/);
    expect(await refused('https://v6.example.com/')).toMatch(/loopback/);
    expect(await refused('https://ula.example.com/')).toMatch(/unique-local/);
    expect(await refused('https://loop.example.com/')).toMatch(/loopback/);
    expect(await refused('https://junk.example.com/')).toMatch(/not an address/);
    expect(await refused('https://none.example.com/')).toMatch(/does not resolve/);
    expect(await refused('https://unknown.example.com/')).toMatch(/does not resolve: ENOTFOUND/);
    expect(await refused('http://hooks.example.com/')).toMatch(/https/);
    // The development setting opens loopback, over http too, and nothing else.
    await expect(guardDestination('https://loop.example.com/', { ...dev, resolve })).resolves.toBeInstanceOf(URL);
    await expect(guardDestination('http://localhost:9/', { ...dev, resolve })).resolves.toBeInstanceOf(URL);
    await expect(guardDestination('http://127.0.0.1:9/', { ...dev, resolve })).resolves.toBeInstanceOf(URL);
    expect(await refused('https://mixed.example.com/', dev)).toMatch(/private/);
    expect(await refused('http://[::1]:9/', strict)).toMatch(/https/);
  });
});
