import { beforeAll, describe, expect, it } from 'vitest';
import { scanBytes } from '../../agent-sdk/src/scanner/scan.ts';
import { SignatureIndex } from '../../agent-sdk/src/scanner/signature-index.ts';
import { DEFAULT_SCAN_OPTIONS } from '../../agent-sdk/src/scanner/types.ts';
import { threatCorpus, type ThreatCorpus } from '../support/threat-corpus.ts';

describe('the generated threat corpus', () => {
  let corpus: ThreatCorpus;
  let index: SignatureIndex;
  beforeAll(async () => {
    corpus = await threatCorpus(7, 1);
    index = new SignatureIndex(corpus.signatures);
  }, 120_000);

  it('finds every planted threat, bare and inside each container kind, with no false positive', async () => {
    const wrong: string[] = [];
    const kinds = new Set<string>();
    for (const file of corpus.files) {
      const { verdict } = await scanBytes(index, DEFAULT_SCAN_OPTIONS, file.data, file.name);
      kinds.add(file.name.replace(/-\d+/g, ''));
      const expected = file.threat === undefined ? 'clean' : `infected ${file.threat}`;
      const got = verdict.verdict === 'infected' ? `infected ${verdict.name}` : verdict.verdict === 'clean' ? 'clean' : JSON.stringify(verdict);
      if (got !== expected) wrong.push(`${file.name}: expected ${expected}, got ${got}`);
    }
    expect(wrong).toEqual([]);
    expect(corpus.files.filter((f) => f.threat).length).toBeGreaterThan(60);
    expect(corpus.files.filter((f) => !f.threat).length).toBeGreaterThan(40);
    for (const kind of ['zip-in-zip.zip', 'tar.tar.gz', 'tar.tar.bz2', 'tar.tar.xz', 'archive.7z', 'archive.rar', 'mail.eml', 'mail-nested.eml', 'mail-qp.eml', 'eicar.com', 'hash-target.bin']) {
      expect([...kinds]).toContain(kind);
    }
  }, 120_000);

  it('names the member path down to the infected file', async () => {
    const nested = corpus.files.find((f) => f.name.startsWith('mail-nested-'))!;
    const { verdict } = await scanBytes(index, DEFAULT_SCAN_OPTIONS, nested.data, nested.name);
    expect(verdict).toMatchObject({ verdict: 'infected', path: [nested.name, 'forwarded.eml', 'inner.zip', expect.stringMatching(/^payload-/)] });
  });
});
