import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { scanBytes } from '../../agent-sdk/src/scanner/scan.ts';
import { SignatureIndex } from '../../agent-sdk/src/scanner/signature-index.ts';
import { DEFAULT_LIMITS, DEFAULT_SCAN_OPTIONS, type ScanOptions } from '../../agent-sdk/src/scanner/types.ts';
import { mail, rar, sevenZip, tar, zip } from '../support/threat-corpus.ts';

const EICAR = new TextEncoder().encode('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const index = new SignatureIndex([]);
const options: ScanOptions = { ...DEFAULT_SCAN_OPTIONS, limits: { ...DEFAULT_LIMITS, maxObjectBytes: 8 << 20, maxTotalBytes: 32 << 20, maxScanMs: 5000 } };
const VERDICTS = ['clean', 'infected', 'limitExceeded', 'encrypted', 'error'];

/** Byte flips, truncations and splices of a valid container. */
const mutated = (seed: Uint8Array) =>
  fc
    .array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 })
    .chain((flips) => fc.tuple(fc.constant(flips), fc.nat(seed.length), fc.uint8Array({ maxLength: 64 })))
    .map(([flips, cut, splice]) => {
      const out = Uint8Array.from(seed);
      for (const [at, b] of flips) out[at] = b;
      return Uint8Array.from([...out.subarray(0, Math.max(1, cut)), ...splice, ...out.subarray(cut)]);
    });

describe('fuzzed containers always end with a verdict', () => {
  it('zip, tar, gzip, RAR and mail, mutated', async () => {
    const member = { name: 'eicar.com', data: EICAR };
    const seeds = [
      zip([member, { name: 'a.txt', data: new Uint8Array(300).fill(65) }]),
      tar([member]),
      gzipSync(tar([member])),
      rar([member]),
      mail({ subject: 'x', attachments: [{ name: 'e.com', type: 'application/octet-stream', data: EICAR }, { name: 'q.bin', type: 'application/octet-stream', data: EICAR, qp: true }] }),
    ];
    for (const seed of seeds) {
      await fc.assert(
        fc.asyncProperty(mutated(seed), async (data) => {
          const { verdict } = await scanBytes(index, options, data, 'fuzzed');
          expect(VERDICTS).toContain(verdict.verdict);
        }),
        { numRuns: 60 },
      );
    }
  }, 120_000);

  it('7z, mutated (through 7-Zip in WebAssembly)', async () => {
    const seed = await sevenZip([{ name: 'eicar.com', data: EICAR }]);
    await fc.assert(
      fc.asyncProperty(mutated(seed), async (data) => {
        const { verdict } = await scanBytes(index, options, data, 'fuzzed.7z');
        expect(VERDICTS).toContain(verdict.verdict);
      }),
      { numRuns: 40 },
    );
  }, 120_000);

  it('random bytes behind every container magic', async () => {
    const magics = [[0x50, 0x4b, 0x03, 0x04], [0x1f, 0x8b], [0x42, 0x5a, 0x68, 0x39], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07, 0x00], [...new TextEncoder().encode('From: a\r\nTo: b\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n')]];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 2000 }), async (magic, rest) => {
        const { verdict } = await scanBytes(index, options, Uint8Array.from([...magic, ...rest]), 'random');
        expect(VERDICTS).toContain(verdict.verdict);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});

describe('mail decoding', () => {
  it('decodes quoted-printable with soft breaks and LF-only messages, and nested multiparts', async () => {
    const hex = Buffer.from(EICAR).toString('latin1').replace(/[=]/g, '=3D');
    const soft = `${hex.slice(0, 30)}=\n${hex.slice(30)}`;
    const message = [
      'From: a@example.com',
      'To: b@example.com',
      'Content-Type: multipart/mixed; boundary="outer"',
      '',
      '--outer',
      'Content-Type: multipart/alternative; boundary=inner',
      '',
      '--inner',
      'Content-Type: text/plain',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      soft,
      '--inner--',
      '--outer--',
      '',
    ].join('\n');
    const { verdict } = await scanBytes(index, DEFAULT_SCAN_OPTIONS, new TextEncoder().encode(message), 'lf.eml');
    expect(verdict).toMatchObject({ verdict: 'infected', name: 'Eicar-Test-Signature' });
  });
});
