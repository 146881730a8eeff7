import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScanPool } from '../../agent-sdk/src/scanner/pool.ts';
import { scanFile } from '../../agent-sdk/src/scanner/scan-files.ts';
import { SignatureIndex } from '../../agent-sdk/src/scanner/signature-index.ts';
import { DEFAULT_SCAN_OPTIONS } from '../../agent-sdk/src/scanner/types.ts';
import { threatCorpus, type ThreatCorpus } from '../support/threat-corpus.ts';

let dir: string;
let corpus: ThreatCorpus;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-pool-'));
  corpus = await threatCorpus(3, 1);
  for (const f of corpus.files.slice(0, 60)) await writeFile(join(dir, f.name), f.data);
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('ScanPool', { timeout: 120_000 }, () => {
  it('gives the same verdicts on two threads as the engine in process', async () => {
    const pool = new ScanPool(corpus.signatures, DEFAULT_SCAN_OPTIONS, 2);
    const index = new SignatureIndex(corpus.signatures);
    try {
      const files = corpus.files.slice(0, 60).map((f) => join(dir, f.name));
      const pooled = await Promise.all(files.map((f) => pool.scanFile(f)));
      for (const [i, f] of files.entries()) expect(pooled[i]!.verdict, f).toEqual((await scanFile(index, DEFAULT_SCAN_OPTIONS, f)).verdict);
      expect(pooled.filter((r) => r.verdict.verdict === 'infected').length).toBeGreaterThan(10);
    } finally {
      await pool.close();
    }
  });

  it('fails the job of a file it cannot read instead of calling it clean, and refuses work once closed', async () => {
    const pool = new ScanPool([], DEFAULT_SCAN_OPTIONS, 1);
    await expect(pool.scanFile(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    await pool.close();
    await expect(pool.scanFile(join(dir, 'missing'))).rejects.toThrow(/closed/);
  });
});
