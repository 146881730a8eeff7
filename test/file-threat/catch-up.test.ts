import { linkSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { FileThreatConfig } from '../../agent-sdk/src/file-threat/config.ts';
import { procRoots } from '../../agent-sdk/src/file-threat/roots.ts';
import { FileThreatService } from '../../agent-sdk/src/file-threat/service.ts';
import { FileSignatureSource } from '../../agent-sdk/src/file-threat/signatures.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { uuidv7 } from '../../agent-sdk/src/webhook/uuid.ts';
import { EICAR, eventFor, fakeProc, ftpBundle, pod, until, writeSignatures } from './support.ts';

/**
 * What change notifications miss, and how the periodic full scan catches up: a file changed through a path the
 * watches do not cover (a hard link outside the container's tree stands in for a write from another mount, or while
 * the agent was down), and directories past the watch limit.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-ftp-catchup-'));
const root = fakeProc(join(dir, 'proc'));
const events: AuditEventV1[] = [];
const pods = new PodCache();
pods.set(pod());
const bundle = { content: ftpBundle({ interceptorMode: 'audit' }), revision: 1 };
mkdirSync(join(root, 'data'), { recursive: true });
mkdirSync(join(root, 'deep/er/still'), { recursive: true });
mkdirSync(join(dir, 'outside'));
writeFileSync(join(root, 'data/report.txt'), 'quarterly numbers\n');
linkSync(join(root, 'data/report.txt'), join(dir, 'outside/report.txt'));
let service: FileThreatService;

beforeAll(async () => {
  service = new FileThreatService({
    config: FileThreatConfig.parse({ procDir: join(dir, 'proc'), quarantineDir: join(dir, 'q'), workers: 1, fullScanSeconds: 2, maxWatchesPerContainer: 3, settleMilliseconds: 50 }),
    signatures: new FileSignatureSource(writeSignatures(join(dir, 'sigs'))), roots: procRoots(join(dir, 'proc')),
    bundle: () => bundle, pods: () => pods.all(), onAudit: (e) => events.push(...e), newId: uuidv7,
  });
  await service.start();
  await until('covered and scanned once', () => service.targets().length === 1 && service.counters.fullScans >= 1 && !service.busy);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the periodic full scan catches up', { timeout: 60_000 }, () => {
  it('with a file written where no watch sees it (the same file through a path outside the tree)', async () => {
    const scans = service.counters.fullScans;
    writeFileSync(join(dir, 'outside/report.txt'), EICAR);
    const e = await eventFor(events, '/data/report.txt', 20_000);
    // Found by a full scan that started after the write, not by a change notification.
    expect(e.file).toMatchObject({ verdict: 'infected', signature: 'Eicar-Test-Signature', trigger: 'fullScan' });
    expect(service.counters.fullScans).toBeGreaterThan(scans);
  });

  it('with directories past the watch limit, counted in the gauges', async () => {
    // Watched in name order: /, /data, /deep; /deep/er and below are past the limit.
    expect(service.gauges()).toMatchObject({ containers: 1, watches: 3, watchLimited: 1 });
    writeFileSync(join(root, 'deep/er/still/dropper.com'), EICAR);
    const e = await eventFor(events, '/deep/er/still/dropper.com', 20_000);
    expect(e.file!.trigger).toBe('fullScan');
  });
});
