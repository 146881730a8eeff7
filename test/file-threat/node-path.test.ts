import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { AgentEnforcement } from '../../schema/enforcement.ts';
import { chattrImmutable } from '../../agent-sdk/src/file-threat/actions.ts';
import { procRoots } from '../../agent-sdk/src/file-threat/roots.ts';
import { FileThreatService } from '../../agent-sdk/src/file-threat/service.ts';
import { FileSignatureSource } from '../../agent-sdk/src/file-threat/signatures.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { NodeAgent } from '../../agent-sdk/src/runtime/node-agent.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { zip } from '../support/threat-corpus.ts';
import { uuidv7 } from '../../agent-sdk/src/webhook/uuid.ts';
import { checkEvent } from '../../workers/audit/audit-event.validate.ts';
import { EICAR, eventFor, fakeProc, ftpBundle, HASH_TARGET, lsattr, PLANTED, pod, until, writeSignatures } from './support.ts';

/**
 * The node path of File Threat Protection, end to end in one process: a tree standing in for `/proc` (the container's
 * root where `/proc/<pid>/root` would be, found through its cgroup), real signature files, the real scanner on its
 * thread pool, the node agent's HTTP endpoints, and the audit events it hands to the spool.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-ftp-node-'));
const root = fakeProc(join(dir, 'proc'));
const quarantine = join(dir, 'quarantine');
const events: AuditEventV1[] = [];
const pods = new PodCache();
pods.set(pod());
let bundle = { content: ftpBundle({ interceptorMode: 'audit', pathExclusions: ['/var/cache'] }), revision: 1 };
/** New settings in a new bundle revision; resolves once the agent has rescanned the container under them. */
const setSettings = async (settings: Record<string, unknown>, mode: 'audit' | 'enforce' = 'enforce') => {
  const scans = service.counters.fullScans;
  bundle = { content: ftpBundle(settings, mode), revision: bundle.revision + 1 };
  await until('the rescan under the new settings', () => service.counters.fullScans > scans && !service.busy);
};
const sigFiles = writeSignatures(join(dir, 'sigs'));
const signatures = new FileSignatureSource(sigFiles);
for (const d of ['app', 'tmp', 'var/cache', 'proc']) mkdirSync(join(root, d), { recursive: true });
writeFileSync(join(root, 'app', 'index.html'), '<html>clean</html>\n');

let agent: NodeAgent;
let service: FileThreatService;
let base: string;

beforeAll(async () => {
  const settings = NodeAgentConfig.parse({
    sensors: [{ kind: 'tetragon', path: join(dir, 'tetragon.log') }], listen: '127.0.0.1', port: 0, tetragonPolicies: false,
    fileThreat: { signatures: sigFiles, procDir: join(dir, 'proc'), quarantineDir: quarantine, workers: 1, settleMilliseconds: 100, notScannedWindowSeconds: 1 },
  });
  writeFileSync(join(dir, 'tetragon.log'), '');
  service = new FileThreatService({
    config: settings.fileThreat!, signatures, roots: procRoots(join(dir, 'proc')), bundle: () => bundle, pods: () => pods.all(),
    onAudit: (e) => events.push(...e), newId: uuidv7, setImmutable: chattrImmutable,
  });
  agent = new NodeAgent({ node: 'node-1', settings, bundle: () => null, onAudit: () => undefined, resolve: async () => ({ addresses: [] }), pods, fileThreat: service });
  const address = await agent.start(dir);
  base = `http://127.0.0.1:${address.port}`;
  await until('the container covered and its first full scan done', () => service.targets().length === 1 && !service.busy);
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  for (const f of readdirSync(join(root, 'app'))) execFileSync('chattr', ['-i', join(root, 'app', f)], { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
});

const write = (path: string, data: string | Uint8Array) => writeFileSync(join(root, path), data);
const accepted = (e: AuditEventV1) => expect(checkEvent(0, JSON.parse(JSON.stringify(e)), Date.now(), 600_000)).toMatchObject({ ok: true });

describe('File Threat Protection on a node', { timeout: 60_000 }, () => {
  it('covers the container the policy reaches, through the pid its cgroup names, and scans what is already there', () => {
    expect(service.targets()).toEqual([expect.objectContaining({ id: pod().containerIds!.app, namespace: 'shop', pod: 'web-1', container: 'app', root })]);
    expect(service.counters.scanned.clean).toBeGreaterThanOrEqual(1);
    expect(agent.enforcement()).toEqual(AgentEnforcement.parse({ component: 'node', instance: 'node-1', sections: ['containerRuntimeProfiles', 'fileThreatProtection'], detectOnly: ['containerRuntimeProfiles'] }));
  });

  it('audit mode: a file written into the container is detected through the watcher, reported, and left in place', async () => {
    write('tmp/eicar.com', EICAR);
    const e = await eventFor(events, '/tmp/eicar.com');
    accepted(e);
    expect(e).toMatchObject({
      kind: 'fileThreat', verdict: 'alerted', mode: 'audit', severity: 'critical', bundleRevision: 1,
      workload: { namespace: 'shop', kind: 'Pod', name: 'web-1', pod: 'web-1', container: 'app', image: 'nginx:1.25' },
      file: { path: '/tmp/eicar.com', verdict: 'infected', signature: 'Eicar-Test-Signature', trigger: 'change', actions: [] },
      checks: [{ id: 'fileThreatProtection', policy: { name: 'ftp' }, mode: 'enforce', container: 'app', message: expect.stringContaining('reported only (audit mode)') }],
    });
    expect(readFileSync(join(root, 'tmp/eicar.com'), 'utf8')).toBe(EICAR);
  });

  it('an Audit-mode policy never changes files, even with the settings in enforce mode', async () => {
    await setSettings({ interceptorMode: 'enforce', firstAction: 'remove' }, 'audit');
    write('tmp/eicar-2.com', EICAR);
    const e = await eventFor(events, '/tmp/eicar-2.com');
    expect(e).toMatchObject({ verdict: 'alerted', mode: 'audit', file: { trigger: 'change', actions: [] } });
    expect(existsSync(join(root, 'tmp/eicar-2.com'))).toBe(true);
  });

  it('recommended (disinfect): a zip with a planted signature is copied to the owner-only quarantine, then removed', async () => {
    await setSettings({ interceptorMode: 'enforce', firstAction: 'recommended', archiveScanning: 'all' });
    const data = zip([{ name: 'readme.txt', data: Buffer.from('hello') }, { name: 'bin/tool', data: Buffer.concat([Buffer.alloc(300, 7), PLANTED, Buffer.alloc(50, 1)]) }]);
    write('app/upload.zip', data);
    const e = await eventFor(events, '/app/upload.zip');
    accepted(e);
    expect(e).toMatchObject({
      verdict: 'blocked', mode: 'enforce',
      file: { verdict: 'infected', signature: 'Palisade.Test.Planted', member: ['/app/upload.zip', 'bin/tool'], trigger: 'change', actions: [{ action: 'disinfect', ok: true }] },
    });
    expect(existsSync(join(root, 'app/upload.zip'))).toBe(false);
    expect(statSync(quarantine).mode & 0o777).toBe(0o700);
    // Files left by the tests before are disinfected too (new settings apply to what is there): find this one's.
    const metas = readdirSync(quarantine).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(join(quarantine, f), 'utf8')));
    const meta = metas.find((m) => m.originalPath === '/app/upload.zip');
    expect(meta).toMatchObject({ originalPath: '/app/upload.zip', container: 'app', pod: 'web-1', namespace: 'shop', signature: 'Palisade.Test.Planted', digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), time: expect.any(String) });
    const copy = join(quarantine, `${meta.id}.bin`);
    expect(statSync(copy).mode & 0o777).toBe(0o600);
    expect(Buffer.compare(readFileSync(copy), Buffer.from(data))).toBe(0);
    expect(e.file!.actions[0]!.detail).toContain(meta.id);
  });

  it('remove: a file known by its SHA-256 is unlinked', async () => {
    await setSettings({ interceptorMode: 'enforce', firstAction: 'remove' });
    write('app/known.bin', HASH_TARGET);
    const e = await eventFor(events, '/app/known.bin');
    expect(e).toMatchObject({ verdict: 'blocked', file: { signature: 'Palisade.Test.HashTarget', trigger: 'change', actions: [{ action: 'remove', ok: true, detail: 'removed' }] } });
    expect(existsSync(join(root, 'app/known.bin'))).toBe(false);
  });

  it('blockAccess: mode 000 and, as root on a file system that has it, immutable', async () => {
    await setSettings({ interceptorMode: 'enforce', firstAction: 'blockAccess' });
    write('app/blocked.com', EICAR);
    const e = await eventFor(events, '/app/blocked.com');
    expect(e).toMatchObject({ verdict: 'blocked', file: { trigger: 'change', actions: [{ action: 'blockAccess', ok: true }] } });
    expect(statSync(join(root, 'app/blocked.com')).mode & 0o777).toBe(0);
    if (process.getuid?.() === 0) {
      expect(e.file!.actions[0]!.detail).toBe('mode 000, immutable');
      expect(lsattr(join(root, 'app/blocked.com'))).toContain('i');
    }
  });

  it('path exclusions and the virtual file systems are neither watched nor scanned', async () => {
    await setSettings({ interceptorMode: 'audit', pathExclusions: ['/var/cache', '/app/*.tmp'] });
    write('var/cache/eicar.com', EICAR);
    write('proc/eicar.com', EICAR);
    write('app/x.tmp', EICAR);
    write('app/sentinel.com', EICAR);
    await eventFor(events, '/app/sentinel.com');
    expect(service.scanNow()).toBe(1);
    await until('the on-demand scan', () => !service.busy);
    expect(events.map((e) => e.file!.path)).not.toEqual(expect.arrayContaining(['/var/cache/eicar.com']));
    expect(events.some((e) => ['/var/cache/eicar.com', '/proc/eicar.com', '/app/x.tmp'].includes(e.file!.path))).toBe(false);
  });

  it('a file past a limit is an event, never clean: too large to scan, and an archive while archive scanning is off', async () => {
    await setSettings({ interceptorMode: 'enforce', firstAction: 'remove', skipObjectsLargerThanMb: 1, archiveScanning: 'off' });
    write('app/big.bin', Buffer.alloc(2 * 1024 * 1024, 1));
    write('app/bundle.zip', zip([{ name: 'a.txt', data: Buffer.from('fine') }]));
    const big = await eventFor(events, '/app/big.bin');
    const archive = await eventFor(events, '/app/bundle.zip');
    for (const e of [big, archive]) accepted(e);
    expect(big).toMatchObject({ verdict: 'alerted', severity: 'low', checks: [{ id: 'fileThreatProtection.limitExceeded' }], file: { verdict: 'limitExceeded', reason: 'objectSize', actions: [] } });
    expect(archive).toMatchObject({ file: { verdict: 'limitExceeded', reason: 'archiveScanningOff', actions: [] } });
    // Not acted on (not a detection), and what the scanner answers for it is not clean.
    expect(existsSync(join(root, 'app/big.bin'))).toBe(true);
    expect(await service.scanner.scan(join(root, 'app/big.bin'), false)).toMatchObject({ kind: 'scanned', verdict: { verdict: 'limitExceeded', kind: 'objectSize' } });
  });

  it('many files not fully scanned for one reason: the first at once, the others as one event with their count', async () => {
    // The window bundle.zip opened (the test before) ends first: these four open their own.
    await new Promise((r) => setTimeout(r, 1200));
    const from = events.length;
    mkdirSync(join(root, 'app/zips'));
    for (let i = 0; i < 4; i++) write(`app/zips/z${i}.zip`, zip([{ name: `m${i}.txt`, data: Buffer.from(`member ${i}`) }]));
    const mine = () => events.slice(from).filter((e) => e.file?.reason === 'archiveScanningOff');
    await until('the aggregate', () => mine().reduce((n, e) => n + (e.count ?? 1), 0) === 4);
    const [first, ...rest] = mine();
    expect(first!.count).toBeUndefined();
    expect(rest.length).toBeGreaterThanOrEqual(1);
    expect(mine().length).toBeLessThan(4);
    const aggregate = rest.find((e) => e.count !== undefined)!;
    accepted(aggregate);
    expect(aggregate).toMatchObject({ kind: 'fileThreat', verdict: 'alerted', firstSeen: expect.any(String), lastSeen: aggregate.time, file: { verdict: 'limitExceeded', path: expect.stringMatching(/^\/app\/zips\/z\d\.zip$/) } });
    expect(aggregate.checks[0]!.message).toMatch(/^\d files? not fully scanned for the same reason since the first was reported; the last: /);
    expect(first!.file!.path).not.toBe(aggregate.file!.path);
  });

  it('scan only new and modified: unchanged files are cache hits; a new signature set invalidates the cache', async () => {
    await setSettings({ interceptorMode: 'audit', scanOnlyNewAndModified: true });
    write('app/later.txt', 'this text becomes a threat when the signatures change\n');
    await until('settled', async () => (await new Promise((r) => setTimeout(r, 300)), !service.busy));
    const hits = service.counters.cacheHits;
    service.scanNow();
    await until('the on-demand scan', () => !service.busy && service.counters.cacheHits > hits);
    const cached = service.counters.cacheHits - hits;
    expect(cached).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.file!.path === '/app/later.txt')).toBe(false);
    // A new set: the cached `clean` of later.txt must not survive it.
    writeSignatures(join(dir, 'sigs'), [`Palisade.Test.Later:0:*:${Buffer.from('becomes a threat').toString('hex')}`]);
    expect(await signatures.check()).toBe(true);
    const e = await eventFor(events, '/app/later.txt');
    expect(e.file).toMatchObject({ signature: 'Palisade.Test.Later', trigger: 'fullScan', digest: expect.stringMatching(/^sha256:/) });
  });

  it('serves File Threat Protection counters in /metrics and status, and scans on request from loopback', async () => {
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/^palisade_file_threat_files_scanned_total\{verdict="infected"\} [1-9]/m);
    expect(metrics).toMatch(/^palisade_file_threat_detections_total [1-9]/m);
    expect(metrics).toMatch(/^palisade_file_threat_actions_total\{action="remove",result="ok"\} [1-9]/m);
    expect(metrics).toMatch(/^palisade_file_threat_containers 1$/m);
    expect(metrics).toMatch(/^palisade_file_threat_queue_dropped_total 0$/m);
    expect(agent.statusCounters()).toMatchObject({ fileThreatContainers: 1, fileThreatDetections: service.counters.detections, fileThreatErrors: 0 });
    const res = await fetch(`${base}/scan?namespace=shop&pod=web-1`, { method: 'POST' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ containers: 1 });
    expect((await fetch(`${base}/scan?namespace=other`, { method: 'POST' }).then((r) => r.json()))).toEqual({ containers: 0 });
  });
});
