import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { zip } from '../../test/support/threat-corpus.ts';
import { cli } from './support/cli.ts';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-scan-cli-'));
  await mkdir(join(dir, 'tree/sub'), { recursive: true });
  await mkdir(join(dir, 'tree/skipped'), { recursive: true });
  await writeFile(join(dir, 'tree/clean.txt'), 'nothing here');
  await writeFile(join(dir, 'tree/sub/bundle.zip'), zip([{ name: 'inner/eicar.com', data: new TextEncoder().encode(EICAR) }]));
  await writeFile(join(dir, 'tree/sub/marked.bin'), 'xx PALISADE-MARKER yy');
  await writeFile(join(dir, 'tree/skipped/eicar.com'), EICAR);
  await writeFile(join(dir, 'sigs.ndb'), `Test.Marker:0:*:${Buffer.from('PALISADE-MARKER').toString('hex')}\nTest.Html:3:*:3c68746d6c3e\n`);
  await writeFile(join(dir, 'bad.json'), '{"apiVersion":"palisade.dev/signatures/v1","name":"x","signatures":[{"type":"body","name":"A","pattern":"41*"}]}');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('palisade-agent scan (spawned through npx)', { timeout: 120_000 }, () => {
  it('prints ClamAV-style lines and a summary, reports unsupported lines by number, exits 1 on a detection', async () => {
    const run = await cli('scan', '--signatures', join(dir, 'sigs.ndb'), '--exclude', join(dir, 'tree/skipped'), join(dir, 'tree'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`${join(dir, 'tree/clean.txt')}: OK`);
    expect(run.stdout).toContain(`${join(dir, 'tree/sub/bundle.zip')}: Eicar-Test-Signature FOUND in inner/eicar.com`);
    expect(run.stdout).toContain(`${join(dir, 'tree/sub/marked.bin')}: Test.Marker FOUND`);
    expect(run.stdout).not.toContain('skipped');
    expect(run.stdout).toMatch(/Scanned files: 3\nInfected files: 2\n/);
    expect(run.stderr).toBe(`${join(dir, 'sigs.ndb')}:2: not imported: target type 3 is not supported (supported: 0 any, 1 PE, 6 ELF, 9 Mach-O)\n`);
  });

  it('answers JSON, exits 0 when all is clean and 2 when a file could not be fully scanned', async () => {
    const clean = await cli('scan', '--output', 'json', join(dir, 'tree/clean.txt'));
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout)).toMatchObject({ infected: 0, files: [{ path: join(dir, 'tree/clean.txt'), verdict: 'clean' }] });
    const limited = await cli('scan', '--archives', 'off', join(dir, 'tree/sub/bundle.zip'));
    expect(limited.code).toBe(2);
    expect(limited.stdout).toContain('NOT FULLY SCANNED: limit exceeded (archiveScanningOff)');
  });

  it('names the file and the problem for a bad signature file or option, exit 2', async () => {
    const bad = await cli('scan', '--signatures', join(dir, 'bad.json'), dir);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${join(dir, 'bad.json')}: /signatures/0/pattern: a pattern cannot end with a gap`);
    const option = await cli('scan', '--max-depth', 'deep', dir);
    expect(option.code).toBe(2);
    expect(option.stderr).toContain('--max-depth is "deep"; give a positive number');
    expect((await cli('scan', '--help')).code).toBe(0);
  });
});
