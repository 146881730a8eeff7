import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesMask } from '../../schema/masks.ts';
import { CidrSet, parseCidr, parseIp, parseIpInto, wordsToBigInt, type ParsedIp } from '../../agent-sdk/src/runtime/cidr.ts';
import type { Protocol } from '../../agent-sdk/src/runtime/event.ts';
import { NetworkRule } from '../../agent-sdk/src/runtime/network.ts';
import { ExecutableSet } from '../../agent-sdk/src/runtime/executables.ts';

/** Slow references: an address as a bit string, a CIDR as a bit-string prefix; a path list tested entry by entry. */
const bitsV4 = (octets: number[]) => octets.map((o) => o.toString(2).padStart(8, '0')).join('');
const bitsV6 = (words: number[]) => words.map((w) => w.toString(2).padStart(16, '0')).join('');
const v6text = (words: number[]) => words.map((w) => w.toString(16)).join(':');

const octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 });
// Few distinct values, so random addresses land inside random CIDRs often.
const words = fc.array(fc.constantFrom(0, 1, 0xdb8, 0x2001, 0xffff, 0x10), { minLength: 8, maxLength: 8 }).filter((w) => !(w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff));
const v4cidr = fc.record({ o: octets.map((o) => o.map((x) => x & 0xf0)), len: fc.integer({ min: 0, max: 32 }) });
const v6cidr = fc.record({ w: words, len: fc.integer({ min: 0, max: 128 }) });

describe('CIDR sets against a bit-string reference', () => {
  it('IPv4: has(ip) iff some CIDR is a prefix of its bits', () => {
    fc.assert(
      fc.property(fc.array(v4cidr, { maxLength: 40 }), fc.array(octets.map((o) => o.map((x) => x & 0xf3)), { minLength: 1, maxLength: 20 }), (cidrs, ips) => {
        const set = CidrSet.from(cidrs.map((c) => `${c.o.join('.')}/${c.len}`));
        for (const ip of ips) {
          const bits = bitsV4(ip);
          const expected = cidrs.some((c) => bitsV4(c.o).slice(0, c.len) === bits.slice(0, c.len));
          expect(set.has(parseIp(ip.join('.'))!)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('IPv6 (and IPv4-mapped IPv6 read as IPv4)', () => {
    fc.assert(
      fc.property(fc.array(v6cidr, { maxLength: 30 }), fc.array(words, { minLength: 1, maxLength: 20 }), (cidrs, ips) => {
        const set = CidrSet.from(cidrs.map((c) => `${v6text(c.w)}/${c.len}`));
        for (const ip of ips) {
          const bits = bitsV6(ip);
          const expected = cidrs.some((c) => bitsV6(c.w).slice(0, c.len) === bits.slice(0, c.len));
          expect(set.has(parseIp(v6text(ip))!)).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
    expect(CidrSet.from(['10.0.0.0/8']).has(parseIp('::ffff:10.1.2.3')!)).toBe(true);
    expect(parseCidr('::ffff:10.0.0.0/104')).toEqual(parseCidr('10.0.0.0/8'));
  });

  it('refuses what is not an address', () => {
    for (const bad of ['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', ':::', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', ''])
      expect(parseIp(bad), bad).toBeUndefined();
    expect(parseIp('::')).toEqual({ family: 6, value: 0n });
    expect(parseIp('2001:db8::1')).toEqual({ family: 6, value: (0x2001n << 112n) | (0xdb8n << 96n) | 1n });
  });
});

describe('executable sets against matching every entry one by one', () => {
  const seg = fc.constantFrom('usr', 'bin', 'sbin', 'nc', 'curl', 'a', 'x.sh', 'tmp');
  const path = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`);
  const mask = fc.tuple(path, fc.constantFrom('exact', 'prefix', 'suffix', 'inner', 'double')).map(([p, kind]) => {
    if (kind === 'exact') return p;
    if (kind === 'prefix') return `${p.slice(0, Math.max(1, p.length - 2))}*`;
    if (kind === 'suffix') return `/*${p.slice(Math.min(p.length - 1, 3))}`;
    if (kind === 'inner') return `${p.slice(0, 2)}*${p.slice(-2)}`;
    return `/*${p.slice(2, 4)}*`;
  });
  // The last two cannot be joined with the others (a backreference, a named group): they are tested one by one.
  const regex = fc.constantFrom('^/usr/', 'nc$', '^/tmp/.*\\.sh$', '(^|/)curl$', 'bin/a', '^/(u|t)\\w*/\\1?', '(?<d>bin)/(?:a|nc)$');

  it('has(path) iff some mask (matchesMask) or regex matches', () => {
    fc.assert(
      fc.property(fc.array(mask, { maxLength: 12 }), fc.array(regex, { maxLength: 3 }), fc.array(path, { minLength: 1, maxLength: 15 }), (masks, regexes, paths) => {
        const set = new ExecutableSet([...masks.map((m) => ({ path: m })), ...regexes.map((r) => ({ regex: r }))]);
        for (const p of paths) {
          const expected = masks.some((m) => matchesMask(m, p)) || regexes.some((r) => new RegExp(r, 'u').test(p));
          expect(set.has(p), `${p} against ${JSON.stringify([masks, regexes])}`).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe('the allocation-free address parser against parseIp', () => {
  const v6Texts = words.chain((w) =>
    fc.constantFrom(
      w.map((x) => x.toString(16)).join(':'),
      // `::` in place of the longest run of zeros, as addresses are usually written
      w.map((x) => x.toString(16)).join(':').replace(/(^|:)0(:0)+(:|$)/, '::'),
      `[${w.map((x) => x.toString(16)).join(':')}]`,
      `${w.slice(0, 6).map((x) => x.toString(16)).join(':')}:1.2.3.4`,
      `${w.map((x) => x.toString(16)).join(':')}%eth0`,
    ),
  );
  const junk = fc.string({ unit: fc.constantFrom('0', '1', 'f', 'F', 'g', ':', '.', '[', ']', '%', '2', '5'), maxLength: 24 });
  const v4Text = octets.map((o) => o.join('.'));
  // Near misses: a valid address with one character added, removed or repeated.
  const edited = fc.tuple(fc.oneof(v6Texts, v4Text), fc.nat(), fc.constantFrom(':', '.', '0', '::', '')).map(([t, at, c]) => {
    const i = at % (t.length + 1);
    return c === '' ? t.slice(0, i) + t.slice(i + 1) : t.slice(0, i) + c + t.slice(i);
  });

  it('accepts exactly what parseIp accepts, with the same value', () => {
    const out = new Uint32Array(4);
    fc.assert(
      fc.property(fc.oneof(v6Texts, edited, junk, v4Text, fc.constant('::ffff:10.1.2.3'), fc.constant('::')), (text) => {
        const ref = parseIp(text);
        const family = parseIpInto(text, out);
        expect(family, text).toBe(ref?.family ?? 0);
        if (ref?.family === 4) expect(out[0]).toBe(ref.value);
        if (ref?.family === 6) expect(wordsToBigInt(out)).toBe(ref.value);
      }),
      { numRuns: 6000 },
    );
  });
});

describe('network rules (merged ranges, port bitsets) against testing every peer', () => {
  const protocol = fc.constantFrom<Protocol | 'any'>('TCP', 'UDP', 'SCTP', 'any');
  const portRange = fc.tuple(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 5 })).map(([a, d]) => (d === 0 ? `${a}` : `${a}-${a + d}`));
  const ports = fc.option(fc.array(portRange, { minLength: 1, maxLength: 3 }), { nil: undefined });
  const v4peer = fc.record({ c: v4cidr, ports, protocol }).map(({ c, ports, protocol }) => ({ cidr: `${c.o.join('.')}/${c.len}`, ...(ports ? { ports } : {}), protocol }));
  const v6peer = fc.record({ c: v6cidr, ports, protocol }).map(({ c, ports, protocol }) => ({ cidr: `${v6text(c.w)}/${c.len}`, ...(ports ? { ports } : {}), protocol }));
  const conn = fc.record({
    ip: fc.oneof(octets.map((o) => o.map((x) => x & 0xf3).join('.')), words.map(v6text)),
    port: fc.oneof(fc.integer({ min: 0, max: 48 }), fc.constantFrom(-1, 65535, 65536, 3.5)),
    protocol: fc.constantFrom<Protocol>('TCP', 'UDP', 'SCTP'),
  });
  const inRanges = (list: string[] | undefined, port: number) =>
    !list || list.some((p) => {
      const [a, b = a] = p.split('-').map(Number) as [number, number?];
      return port >= a && port <= b;
    });

  it('allows(ip, port, protocol) iff one listed peer covers all three', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(v4peer, v6peer), { maxLength: 30 }), fc.array(conn, { minLength: 1, maxLength: 20 }), (peers, conns) => {
        const rule = new NetworkRule(peers);
        // Every range boundary too (first, last, and one past each), where merging and splitting can go wrong.
        const edges = peers.flatMap((p) => {
          const r = parseCidr(p.cidr)!;
          const max = r.family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
          return [r.start - 1n, r.start, r.end, r.end + 1n].filter((v) => v >= 0n && v <= max).map((value) => ({ ip: { family: r.family, value } as ParsedIp, port: 1 + Number(value % 40n), protocol: 'TCP' as Protocol }));
        });
        for (const c of [...conns.map((x) => ({ ...x, ip: parseIp(x.ip)! })), ...edges]) {
          const ip = c.ip.family === 4 ? { family: 4 as const, value: Number(c.ip.value) } : c.ip;
          const bits = ip.family === 4 ? ip.value.toString(2).padStart(32, '0') : ip.value.toString(2).padStart(128, '0');
          const expected = peers.some((p) => {
            const r = parseCidr(p.cidr)!;
            if (r.family !== ip.family) return false;
            const width = r.family === 4 ? 32 : 128;
            const len = width - (r.end - r.start).toString(2).replace(/^0$/, '').length;
            return r.start.toString(2).padStart(width, '0').slice(0, len) === bits.slice(0, len) && (p.protocol === 'any' || p.protocol === c.protocol) && inRanges(p.ports, c.port);
          });
          expect(rule.allows(ip, c.port, c.protocol), `${ip.value} ${c.port}/${c.protocol} against ${JSON.stringify(peers)}`).toBe(expected);
        }
      }),
      { numRuns: 500 },
    );
  });
});
