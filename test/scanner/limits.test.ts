import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readSevenZipOrRar } from '../../agent-sdk/src/scanner/containers/seven-zip.ts';
import { scanBytes } from '../../agent-sdk/src/scanner/scan.ts';
import { SignatureIndex } from '../../agent-sdk/src/scanner/signature-index.ts';
import { DEFAULT_LIMITS, DEFAULT_SCAN_OPTIONS, type ScanOptions } from '../../agent-sdk/src/scanner/types.ts';
import { mail, rar, tar, zip } from '../support/threat-corpus.ts';

const EICAR = new TextEncoder().encode('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
const FIXTURES = '../shared/fixtures/archives';
const index = new SignatureIndex([]);
const fixture = (name: string) => new Uint8Array(readFileSync(`${FIXTURES}/${name}`));
const withLimits = (limits: Partial<ScanOptions['limits']>, rest: Partial<ScanOptions> = {}): ScanOptions => ({
  ...DEFAULT_SCAN_OPTIONS,
  ...rest,
  limits: { ...DEFAULT_LIMITS, ...limits },
});

function nest(depth: number, inner: Uint8Array): Uint8Array {
  let data = inner;
  for (let i = 0; i < depth; i++) data = zip([{ name: `level-${depth - i}.zip`, data }]);
  return data;
}

describe('limits: never clean when not fully scanned', () => {
  it('a zip nested 17 deep is limitExceeded(depth) (ClamAV answers OK); 15 deep is scanned through', async () => {
    const clean = new TextEncoder().encode('nothing to see');
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, nest(17, clean), 'deep.zip')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'depth' });
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, nest(15, EICAR), 'deep.zip')).verdict).toMatchObject({ verdict: 'infected', name: 'Eicar-Test-Signature' });
  });

  it('a 30 MB member in a 29 KB zip is limitExceeded(compressionRatio), and over the size limit objectSize', async () => {
    const bomb = zip([{ name: 'zeros.bin', data: new Uint8Array(30 * 1024 * 1024) }]);
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, bomb, 'bomb.zip')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'compressionRatio' });
    const options = withLimits({ maxObjectBytes: 10 * 1024 * 1024, maxCompressionRatio: 1e9 });
    expect((await scanBytes(index, options, bomb, 'bomb.zip')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'objectSize' });
  });

  it('a gzip bomb stops at the size limit without inflating it whole', async () => {
    const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024));
    const options = withLimits({ maxObjectBytes: 8 * 1024 * 1024, maxCompressionRatio: 1e9 });
    expect((await scanBytes(index, options, bomb, 'bomb.gz')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'objectSize' });
  });

  it('counts members and total bytes across the whole file', async () => {
    const many = zip(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, data: new Uint8Array(1000).fill(i) })));
    expect((await scanBytes(index, withLimits({ maxEntries: 20 }), many, 'many.zip')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'entries' });
    expect((await scanBytes(index, withLimits({ maxTotalBytes: 20_000 }), many, 'many.zip')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'totalSize' });
  });

  it('stops at the scan deadline (the clock is injected)', async () => {
    let t = 0;
    const tick = () => (t += 1000);
    const data = zip([{ name: 'a', data: new Uint8Array(10) }, { name: 'b', data: new Uint8Array(10) }]);
    const { verdict } = await scanBytes(index, withLimits({ maxScanMs: 1500 }), data, 'slow.zip', tick);
    expect(verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'scanTime' });
  });

  it('archives are not opened when archive scanning is off, and then not called clean', async () => {
    const archive = tar([{ name: 'x', data: EICAR }]);
    expect((await scanBytes(index, { ...DEFAULT_SCAN_OPTIONS, archives: 'off' }, archive, 'a.tar')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'archiveScanningOff' });
    expect((await scanBytes(index, { ...DEFAULT_SCAN_OPTIONS, archives: 'selfExtractingOnly' }, archive, 'a.tar')).verdict).toMatchObject({ verdict: 'limitExceeded' });
    const message = mail({ subject: 's', attachments: [{ name: 'e.com', type: 'application/octet-stream', data: EICAR }] });
    expect((await scanBytes(index, { ...DEFAULT_SCAN_OPTIONS, mail: false }, message, 'm.eml')).verdict).toMatchObject({ verdict: 'limitExceeded', kind: 'mailScanningOff' });
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, message, 'm.eml')).verdict).toMatchObject({ verdict: 'infected', path: ['m.eml', 'e.com'] });
  });

  it('opens a self-extracting archive (an executable with an archive appended) when the setting asks', async () => {
    const stub = new Uint8Array(4096);
    stub.set([0x4d, 0x5a]);
    const sfx = new Uint8Array([...stub, ...zip([{ name: 'setup.dat', data: EICAR }])]);
    expect((await scanBytes(index, { ...DEFAULT_SCAN_OPTIONS, archives: 'selfExtractingOnly' }, sfx, 'setup.exe')).verdict).toMatchObject({ verdict: 'infected', path: ['setup.exe', 'setup.dat'] });
    expect((await scanBytes(index, { ...DEFAULT_SCAN_OPTIONS, archives: 'off' }, sfx, 'setup.exe')).verdict).toMatchObject({ verdict: 'clean' });
  });

  it('an encrypted zip member is encrypted, but a detection elsewhere in the file still wins', async () => {
    const data = zip([{ name: 'secret', data: new Uint8Array(10) }]);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const cd = view.getUint32(data.length - 6, true);
    view.setUint16(cd + 8, 1, true);
    view.setUint16(6, 1, true);
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, data, 'enc.zip')).verdict).toMatchObject({ verdict: 'encrypted' });
    const both = tar([{ name: 'enc.zip', data }, { name: 'eicar', data: EICAR }]);
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, both, 'both.tar')).verdict).toMatchObject({ verdict: 'infected' });
  });

  it('a member that inflates past its declared size is an error, not a truncated clean member', async () => {
    const data = zip([{ name: 'x', data: new Uint8Array(5000).fill(7) }]);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const cd = view.getUint32(data.length - 6, true);
    view.setUint32(cd + 24, 100, true);
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, data, 'liar.zip')).verdict).toMatchObject({ verdict: 'error' });
  });
});

describe("libarchive's RAR and 7z test archives", () => {
  const budget = () => ({ maxMemberBytes: 1 << 20, remainingBytes: 1 << 24, maxCompressionRatio: 1000, remainingEntries: 100 });

  it('lists and extracts the members the libarchive tests assert', async () => {
    const names = async (file: string, format: '7z' | 'rar') => (await readSevenZipOrRar(fixture(file), budget(), format)).map((m) => `${m.name}:${m.data.length}`).sort();
    expect(await names('test_read_format_rar.rar', 'rar')).toEqual(['testdir/test.txt:20', 'test.txt:20', 'testlink:8'].sort());
    expect(await names('test_read_format_rar5_multiple_files.rar', 'rar')).toEqual(['test1.bin:4096', 'test2.bin:4096', 'test3.bin:4096', 'test4.bin:4096']);
    expect(await names('test_read_format_7zip_copy.7z', '7z')).toEqual(['file1:60']);
    expect(await names('test_read_format_7zip_copy_2.7z', '7z')).toEqual(['dir1/file1:13', 'file2:26', 'file3:39', 'file4:52']);
  });

  it('finds a signature in a RAR member, in a zip inside a RAR 5, and calls encrypted data encrypted', async () => {
    const text = Buffer.from('test text document').toString('hex');
    const signed = new SignatureIndex([{ type: 'body', name: 'Test.RarText', target: 'any', offset: '*', pattern: text }]);
    expect((await scanBytes(signed, DEFAULT_SCAN_OPTIONS, fixture('test_read_format_rar.rar'), 'a.rar')).verdict).toMatchObject({ verdict: 'infected', name: 'Test.RarText' });
    const inner = (await readSevenZipOrRar(fixture('test_read_format_rar5_zip_in_rar.rar'), budget(), 'rar')).find((m) => m.name === 'payload/inner.zip')!;
    const member = new TextDecoder().decode(inner.data).includes('THIS_IS_INSIDE_THE_ZIP.txt');
    expect(member).toBe(true);
    const { verdict } = await scanBytes(index, DEFAULT_SCAN_OPTIONS, fixture('test_read_format_rar5_zip_in_rar.rar'), 'zip-in-rar.rar');
    expect(verdict).toEqual({ verdict: 'clean' });
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, fixture('test_read_format_rar_encryption_data.rar'), 'enc.rar')).verdict).toMatchObject({ verdict: 'encrypted' });
  });

  it('reads RAR 4 stored archives as rar writes them (the corpus writer)', async () => {
    const data = rar([{ name: 'eicar.com', data: EICAR }]);
    expect((await scanBytes(index, DEFAULT_SCAN_OPTIONS, data, 'e.rar')).verdict).toMatchObject({ verdict: 'infected', path: ['e.rar', 'eicar.com'] });
  });
});
