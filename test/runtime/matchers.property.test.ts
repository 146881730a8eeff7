import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { matchesMask } from '../../schema/masks.ts';
import { CidrSet, parseCidr, parseIp } from '../../agent-sdk/src/runtime/cidr.ts';
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
  const regex = fc.constantFrom('^/usr/', 'nc$', '^/tmp/.*\\.sh$', '(^|/)curl$', 'bin/a');

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
