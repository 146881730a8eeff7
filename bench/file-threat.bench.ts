import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEventV1 } from '../schema/audit-event.ts';
import { FileThreatConfig } from '../agent-sdk/src/file-threat/config.ts';
import { procRoots } from '../agent-sdk/src/file-threat/roots.ts';
import { FileThreatService } from '../agent-sdk/src/file-threat/service.ts';
import type { SignatureSet, SignatureSource } from '../agent-sdk/src/file-threat/signatures.ts';
import { walkTree } from '../agent-sdk/src/file-threat/tree.ts';
import { PodCache } from '../agent-sdk/src/runtime/pods.ts';
import { uuidv7 } from '../agent-sdk/src/webhook/uuid.ts';
import { CONTAINER_ID, EICAR, fakeProc, ftpBundle, pod } from '../test/file-threat/support.ts';
import { threatCorpus } from '../test/support/threat-corpus.ts';
import { fmt, median, report } from './stats.ts';

const wait = async (cond: () => boolean) => {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
};

/**
 * File Threat Protection on a node: a container tree of the threat corpus's clean files (1,800), its signatures.
 * Full scans with "scan only new and modified" off (every file read and scanned on the pool) and on with a warm cache
 * (unchanged files: one lstat each), against the floor of any full scan, walking the tree (readdir only), in the same
 * run. Then the time from a write into the container to its audit event (settle 20 ms).
 */
export async function benchFileThreat(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-ftp-bench-'));
  const root = fakeProc(join(dir, 'proc'));
  const corpus = await threatCorpus(5, 40);
  const clean = corpus.files.filter((f) => !f.threat);
  let bytes = 0;
  clean.forEach((f, i) => {
    const d = join(root, `srv/d${i % 40}`);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, f.name), f.data);
    bytes += f.data.length;
  });
  const set: SignatureSet = { version: 'bench', signatures: corpus.signatures };
  const source: SignatureSource = { current: () => set, subscribe: () => () => undefined };
  const pods = new PodCache();
  pods.set(pod());
  const events: AuditEventV1[] = [];
  let bundle = { content: ftpBundle({ interceptorMode: 'audit', archiveScanning: 'all', mailScanning: true }), revision: 1 };
  const service = new FileThreatService({
    config: FileThreatConfig.parse({ procDir: join(dir, 'proc'), quarantineDir: join(dir, 'q'), settleMilliseconds: 20, fullScanSeconds: 86_400, workers: 2 }),
    signatures: source, roots: procRoots(join(dir, 'proc')), bundle: () => bundle, pods: () => pods.all(), onAudit: (e) => events.push(...e), newId: uuidv7,
  });
  try {
    await service.start();
    await wait(() => service.targets().length === 1 && !service.busy);
    const full = async () => {
      const start = performance.now();
      service.scanNow();
      await wait(() => !service.busy);
      return performance.now() - start;
    };
    const walk = async () => {
      const start = performance.now();
      let files = 0;
      for await (const e of walkTree(root, '/', () => false)) if (!e.dir) files++;
      return [performance.now() - start, files][0]!;
    };
    const runs = 5;
    const floor: number[] = [];
    const uncached: number[] = [];
    const cached: number[] = [];
    for (let i = 0; i < runs; i++) floor.push(await walk());
    for (let i = 0; i < runs; i++) uncached.push(await full());
    bundle = { content: ftpBundle({ interceptorMode: 'audit', archiveScanning: 'all', mailScanning: true, scanOnlyNewAndModified: true }), revision: 2 };
    await new Promise((r) => setTimeout(r, 200));
    await wait(() => !service.busy); // the settings change scans everything once (fills the cache)
    for (let i = 0; i < runs; i++) cached.push(await full());
    const latency: number[] = [];
    for (let i = 0; i < 15; i++) {
      const path = `/srv/drop-${i}.com`;
      const start = performance.now();
      writeFileSync(join(root, path), EICAR);
      await wait(() => events.some((e) => e.file?.path === path));
      latency.push(performance.now() - start);
    }
    const [f, u, c] = [median(floor), median(uncached), median(cached)];
    report(`file threat protection: full scan of one container (${clean.length} files, ${fmt(bytes / 2 ** 20, 1)} MiB, ${set.signatures.length + 1} signatures, 2 threads)`, [
      ['baseline: walking the tree (readdir, ms)', fmt(f, 1)],
      ['full scan, no cache (ms)', `${fmt(u, 1)}  (${fmt(bytes / 2 ** 20 / (u / 1000), 1)} MiB/s; ${fmt(u / f, 1)}x baseline)`],
      ['full scan, cache warm (ms)', `${fmt(c, 1)}  (${fmt(c / f, 1)}x baseline; ${fmt(u / c, 1)}x faster than no cache)`],
      ['cache hits per warm scan', `${fmt(service.counters.cacheHits / runs, 0)}`],
      ['write → fileThreat event (ms, median of 15; settle 20)', `${fmt(median(latency), 1)}`],
      ['container id', CONTAINER_ID.slice(0, 12)],
    ]);
  } finally {
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
