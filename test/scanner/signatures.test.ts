import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyMatcher } from '../../agent-sdk/src/scanner/body-matcher.ts';
import { importClamAv } from '../../schema/clamav-import.ts';
import { byteMatches, parsePattern } from '../../schema/file-signature-pattern.ts';
import { SignatureSetDocument } from '../../schema/file-signatures.ts';
import { prng } from '../support/prng.ts';
import { instantiate } from '../support/threat-corpus.ts';

/** The slow reference: the pattern as a regular expression over the bytes read as Latin-1. */
function referenceMatches(pattern: string, data: Uint8Array): boolean {
  const { parts, gaps } = parsePattern(pattern);
  const cls = (b: Parameters<typeof byteMatches>[0]) => {
    const chars: string[] = [];
    for (let v = 0; v < 256; v++) if (byteMatches(b, v)) chars.push(`\\x${v.toString(16).padStart(2, '0')}`);
    return `[${chars.join('')}]`;
  };
  const source = parts
    .map((part, i) => (i > 0 ? `[\\s\\S]{${gaps[i - 1]!.min},${gaps[i - 1]!.max === Infinity ? '' : gaps[i - 1]!.max}}` : '') + part.map(cls).join(''))
    .join('');
  return new RegExp(source).test(Buffer.from(data).toString('latin1'));
}

const byte = fc.integer({ min: 0, max: 255 }).map((b) => b.toString(16).padStart(2, '0'));
const token = fc.oneof(
  { weight: 6, arbitrary: byte },
  { weight: 1, arbitrary: fc.constant('??') },
  { weight: 1, arbitrary: byte.map((h) => `${h[0]}?`) },
  { weight: 1, arbitrary: byte.map((h) => `?${h[1]}`) },
  { weight: 1, arbitrary: fc.tuple(byte, byte).map(([a, b]) => `(${a}|${b})`) },
);
const gap = fc.oneof(fc.constant('*'), fc.nat(6).map((n) => `{${n}}`), fc.nat(6).map((n) => `{-${n + 1}}`), fc.nat(3).map((n) => `{${n}-}`), fc.tuple(fc.nat(3), fc.nat(4)).map(([a, b]) => `{${a}-${a + b}}`));
const part = fc.tuple(fc.tuple(byte, byte), fc.array(token, { maxLength: 4 })).map(([[a, b], rest]) => `${a}${b}${rest.join('')}`);
const pattern = fc.tuple(part, fc.array(fc.tuple(gap, part), { maxLength: 2 })).map(([first, more]) => first + more.map(([g, p]) => g + p).join(''));

describe('body signatures', () => {
  it('the matcher agrees with a regular-expression reference on random patterns and data', () => {
    fc.assert(
      fc.property(pattern, fc.uint8Array({ maxLength: 300 }), fc.boolean(), fc.integer(), (p, noise, planted, seed) => {
        const data = planted ? Uint8Array.from([...noise.subarray(0, 100), ...instantiate(p, prng(seed)), ...noise.subarray(100)]) : noise;
        const found = new BodyMatcher([{ type: 'body', name: 'S', target: 'any', offset: '*', pattern: p }]).scan(data, 'any').length > 0;
        expect(found).toBe(referenceMatches(p, data));
        if (planted) expect(found).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('honours offsets n, n,m and EOF-n, and executable targets', () => {
    const data = Uint8Array.from([0x4d, 0x5a, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 0xca, 0xfe]);
    const at = (offset: string, target: 'any' | 'pe' | 'elf' = 'any', pattern = 'deadbeef') =>
      new BodyMatcher([{ type: 'body', name: 'S', target, offset, pattern }]).scan(data, 'pe').length > 0;
    expect(at('4')).toBe(true);
    expect(at('3')).toBe(false);
    expect(at('1,3')).toBe(true);
    expect(at('EOF-8')).toBe(true);
    expect(at('EOF-2', 'any', 'cafe')).toBe(true);
    expect(at('EOF-3', 'any', 'cafe')).toBe(false);
    expect(at('*', 'pe')).toBe(true);
    expect(at('*', 'elf')).toBe(false);
  });

  it('refuses patterns it cannot enforce, naming the position', () => {
    for (const [bad, message] of [
      ['', /empty/],
      ['4142*', /end with a gap/],
      ['*4142', /must follow bytes/],
      ['41?', /odd number/],
      ['41{2', /unclosed/],
      ['41{5-2}42', /ends before/],
      ['41(42|4344)', /single bytes/],
      ['41??42??43', /two consecutive fixed/],
      ['41zz', /unsupported token "zz"/],
    ] as const) {
      expect(() => parsePattern(bad), bad).toThrow(message);
    }
  });
});

describe('ClamAV import', () => {
  it('imports .hdb, .hsb and .ndb lines and reports every unsupported line by number', () => {
    const hdb = importClamAv('hdb', '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n\nabc:1:Short\n44d88612fea8a8f36de82e1278abb02f:*:AnySize:73\n');
    expect(hdb.signatures).toEqual([
      { type: 'hash', name: 'Eicar-Test-Signature', algorithm: 'md5', digest: '44d88612fea8a8f36de82e1278abb02f', size: 68 },
      { type: 'hash', name: 'AnySize', algorithm: 'md5', digest: '44d88612fea8a8f36de82e1278abb02f', size: null },
    ]);
    expect(hdb.unsupported).toEqual([{ line: 3, reason: expect.stringMatching(/neither MD5 nor SHA-256/) }]);
    const hsb = importClamAv('hsb', `${'a'.repeat(64)}:10:Sha\n${'b'.repeat(40)}:10:Sha1\n`);
    expect(hsb.signatures).toHaveLength(1);
    expect(hsb.unsupported).toEqual([{ line: 2, reason: 'SHA-1 hashes are not supported' }]);
    const ndb = importClamAv(
      'ndb',
      [
        'Test.A:0:*:4142434445{-4}4647??48(49|4a)',
        'Test.B:1:EOF-20:deadbeef*cafebabe',
        'Test.C:3:*:3c736372697074',
        'Test.D:0:EP+10:41424344',
        'Test.E:0:*:41!(42)4344',
        'Test.F:6:100,20:7f454c46:73',
      ].join('\n'),
    );
    expect(ndb.signatures.map((s) => s.name)).toEqual(['Test.A', 'Test.B', 'Test.F']);
    expect(ndb.unsupported).toEqual([
      { line: 3, reason: expect.stringMatching(/target type 3 is not supported/) },
      { line: 4, reason: expect.stringMatching(/offset "EP\+10" is not supported/) },
      { line: 5, reason: expect.stringMatching(/pattern: unsupported token "!\("/) },
    ]);
  });

  it('our JSON format validates with a pointer to the bad field', () => {
    const parsed = SignatureSetDocument.safeParse({
      apiVersion: 'palisade.dev/signatures/v1',
      name: 'x',
      signatures: [{ type: 'body', name: 'A', pattern: '41*' }, { type: 'hash', name: 'B', algorithm: 'sha256', digest: 'ab', size: 1 }],
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('/'))).toEqual(['signatures/0/pattern', 'signatures/1/digest']);
  });
});
