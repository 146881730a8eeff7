import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, renameSync, existsSync, lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { applyActions } from '../../agent-sdk/src/file-threat/actions.ts';
import { FileThreatConfig } from '../../agent-sdk/src/file-threat/config.ts';
import { FileThreatService } from '../../agent-sdk/src/file-threat/service.ts';
import { FileSignatureSource } from '../../agent-sdk/src/file-threat/signatures.ts';
import { NodeAgent } from '../../agent-sdk/src/runtime/node-agent.ts';
import { fileThreatCoverage } from '../../agent-sdk/src/file-threat/coverage.ts';
import { namesContainer, procRoots, snapshotRoots } from '../../agent-sdk/src/file-threat/roots.ts';
import { ScanQueue } from '../../agent-sdk/src/file-threat/scan-queue.ts';
import { identityOf } from '../../agent-sdk/src/file-threat/verify.ts';
import { evaluate } from '../../agent-sdk/src/engine/evaluate.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { podInfo } from '../../agent-sdk/src/runtime/kube.ts';
import { uuidv7 } from '../../agent-sdk/src/webhook/uuid.ts';
import { deriveEnforcement } from '../../workers/agents/enforcement.store.ts';
import { buildBundle } from '../engine/support/bundle.ts';
import { CONTAINER_ID, fakeProc, ftpBundle, pod } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-ftp-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('which containers File Threat Protection covers', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const twoContainers = { ...pod(), containers: [{ name: 'app', image: 'nginx:1.25' }, { name: 'sidecar', image: 'ghcr.io/acme/proxy:1' }] };

  it('a policy with the section on covers every container its scope and exclusions leave; off or disabled, none', () => {
    const covered = fileThreatCoverage(ftpBundle({}), twoContainers, now);
    expect([...covered.keys()]).toEqual(['app', 'sidecar']);
    expect(covered.get('app')).toEqual([{ policy: expect.objectContaining({ name: 'ftp' }), mode: 'enforce', via: 'policy' }]);
    const imageExcluded = buildBundle({ policies: [{ name: 'ftp', mode: 'audit', fileThreatProtection: { enabled: true }, exclusions: { enabled: true, items: [{ kind: 'Image', name: 'ghcr.io/acme/**' }] } }] }).bundle;
    expect([...fileThreatCoverage(imageExcluded, twoContainers, now).keys()]).toEqual(['app']);
    const nsExcluded = buildBundle({ policies: [{ name: 'ftp', mode: 'audit', fileThreatProtection: { enabled: true }, exclusions: { enabled: true, items: [{ kind: 'Namespace', name: 'sh*' }] } }] }).bundle;
    expect(fileThreatCoverage(nsExcluded, twoContainers, now).size).toBe(0);
    const otherScope = buildBundle({ policies: [{ name: 'ftp', mode: 'audit', fileThreatProtection: { enabled: true }, scopes: [[{ type: 'namespace', cluster: '*', namespace: 'billing' }]] }] }).bundle;
    expect(fileThreatCoverage(otherScope, twoContainers, now).size).toBe(0);
    const disabled = buildBundle({ policies: [{ name: 'ftp', mode: 'audit', enabled: false, fileThreatProtection: { enabled: true } }] }).bundle;
    expect(fileThreatCoverage(disabled, twoContainers, now).size).toBe(0);
  });

  it('a runtime profile with File Threat Protection on covers the containers its mapping reaches', () => {
    const spec = (ftp: boolean) => ({
      runtimeProfiles: [{ name: 'scan-me', fileThreatProtection: { enabled: ftp } }],
      policies: [{ name: 'profiles', mode: 'enforce' as const, containerRuntimeProfiles: { enabled: true, mappings: [{ imageUrlTemplates: ['ghcr.io/acme/**'], profileIds: ['scan-me'] }] } }],
    });
    const { bundle, profileNames } = buildBundle(spec(true));
    const covered = fileThreatCoverage(bundle, twoContainers, now);
    expect([...covered.keys()]).toEqual(['sidecar']);
    expect(profileNames.get(covered.get('sidecar')![0]!.via)).toBe('scan-me');
    expect(fileThreatCoverage(buildBundle(spec(false)).bundle, twoContainers, now).size).toBe(0);
  });

  it('admission still says NOT ENFORCED for the section (only node agents enforce it), and the cluster counts it once every live node agent does', () => {
    const decision = evaluate(ftpBundle({}), { object: { kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [{ name: 'c', image: 'nginx:1.25' }] } } }, { bundleRevision: 1, now: new Date() });
    expect(decision.notEnforced).toEqual([expect.objectContaining({ sections: ['fileThreatProtection'] })]);
    const now = new Date('2026-06-01T00:10:00Z');
    const row = (component: 'admission' | 'node', instance: string, sections: string[]) => ({ component, instance, sections: sections as never, detectOnly: [], reportedAt: '2026-06-01T00:09:00Z' });
    const admission = row('admission', 'a', ['registriesAllowed']);
    expect(deriveEnforcement([admission], now).sections).not.toContain('fileThreatProtection');
    expect(deriveEnforcement([admission, row('node', 'n1', ['containerRuntimeProfiles', 'fileThreatProtection']), row('node', 'n2', ['containerRuntimeProfiles'])], now).sections).not.toContain('fileThreatProtection');
    expect(deriveEnforcement([admission, row('node', 'n1', ['containerRuntimeProfiles', 'fileThreatProtection'])], now).sections).toContain('fileThreatProtection');
  });
});

describe('the enforcement report', () => {
  const sections = async (files: string[], podWatch = true) => {
    const errors: string[] = [];
    const source = new FileSignatureSource(files, (err) => errors.push(err.message));
    await source.check();
    const fileThreat = new FileThreatService({ config: FileThreatConfig.parse({}), signatures: source, roots: procRoots(dir), bundle: () => null, pods: () => [], onAudit: () => undefined, newId: uuidv7 });
    const agent = new NodeAgent({ node: 'n', settings: NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: '/nonexistent' }], podWatch }), bundle: () => null, onAudit: () => undefined, resolve: async () => ({ addresses: [] }), fileThreat });
    return { sections: agent.enforcement().sections, errors };
  };

  it('names fileThreatProtection only while the node scans: signatures loaded and container ids from the pod watch', async () => {
    expect((await sections([])).sections).toEqual(['containerRuntimeProfiles', 'fileThreatProtection']);
    const missing = await sections([join(dir, 'missing.ndb')]);
    expect(missing).toEqual({ sections: ['containerRuntimeProfiles'], errors: [expect.stringContaining('missing.ndb')] });
    expect((await sections([], false)).sections).toEqual(['containerRuntimeProfiles']);
  });
});

describe('reaching container filesystems', () => {
  it('takes container ids from the pod status, without the runtime scheme', () => {
    const v1: V1Pod = {
      metadata: { name: 'web-1', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx' }] },
      status: { containerStatuses: [{ name: 'app', containerID: `containerd://${CONTAINER_ID}`, image: 'nginx', imageID: '', ready: true, restartCount: 0 }, { name: 'waiting', image: 'x', imageID: '', ready: false, restartCount: 0 }] },
    };
    expect(podInfo(v1).containerIds).toEqual({ app: CONTAINER_ID });
  });

  it('finds a process of the container by its cgroup (v1 and v2 spellings), never by a longer id that starts the same', async () => {
    expect(namesContainer(`12:memory:/kubepods/burstable/pod1/${CONTAINER_ID}\n`, CONTAINER_ID)).toBe(true);
    expect(namesContainer(`0::/system.slice/crio-${CONTAINER_ID}.scope\n`, CONTAINER_ID)).toBe(true);
    expect(namesContainer(`0::/x/cri-containerd-${CONTAINER_ID}0.scope\n`, CONTAINER_ID)).toBe(false);
    const proc = join(dir, 'proc');
    const root = fakeProc(proc);
    const roots = procRoots(proc);
    expect(await roots.resolve([CONTAINER_ID, 'f'.repeat(64), '../../etc'])).toEqual(new Map([[CONTAINER_ID, root]]));
    // The pid is remembered while its cgroup still names the container, and forgotten once it does not.
    writeFileSync(join(proc, '4242', 'cgroup'), '0::/other\n');
    expect((await roots.resolve([CONTAINER_ID])).size).toBe(0);
    const snapshot = join(dir, 'snapshots', CONTAINER_ID, 'rootfs');
    mkdirSync(snapshot, { recursive: true });
    expect(await snapshotRoots(join(dir, 'snapshots/{id}/rootfs')).resolve([CONTAINER_ID, 'a'.repeat(64)])).toEqual(new Map([[CONTAINER_ID, snapshot]]));
  });

  it('the node configuration takes a fileThreat section with defaults', () => {
    const c = NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: 't.log' }], fileThreat: {} });
    expect(c.fileThreat).toMatchObject({ roots: 'proc', procDir: '/proc', fullScanSeconds: 3600, skipPaths: ['/proc', '/sys', '/dev'], quarantineDir: '/var/lib/palisade/quarantine' });
    expect(NodeAgentConfig.safeParse({ sensors: [{ kind: 'tetragon', path: 't.log' }], fileThreat: { snapshotPath: '/run/x' } }).success).toBe(false);
    const noPath = NodeAgentConfig.safeParse({ sensors: [{ kind: 'tetragon', path: 't.log' }], fileThreat: { roots: 'snapshot' } });
    expect(noPath.error?.issues.map((i) => i.path.join('/'))).toEqual(['fileThreat/snapshotPath']);
  });
});

describe('actions on a file', () => {
  const deps = (quarantineDir: string) => ({ quarantineDir, newId: uuidv7, now: () => new Date() });
  const suspect = async (root: string, path: string) => ({ root, path, identity: identityOf(await lstat(join(root, path), { bigint: true })), meta: { container: 'app', pod: 'web-1', namespace: 'shop', signature: 'Eicar-Test-Signature' } });

  it('the second action runs when the first fails (quarantine not writable), and not otherwise', async () => {
    const root = join(dir, 'c1');
    mkdirSync(join(root, 'tmp'), { recursive: true });
    writeFileSync(join(root, 'tmp/x'), 'bad');
    writeFileSync(join(dir, 'not-a-dir'), '');
    const outcome = await applyActions(await suspect(root, '/tmp/x'), 'disinfect', 'remove', deps(join(dir, 'not-a-dir', 'q')));
    expect(outcome).toEqual([{ action: 'disinfect', ok: false, detail: expect.stringMatching(/ENOTDIR|EEXIST/) }, { action: 'remove', ok: true, detail: 'removed' }]);
    expect(existsSync(join(root, 'tmp/x'))).toBe(false);
    writeFileSync(join(root, 'tmp/y'), 'bad');
    expect(await applyActions(await suspect(root, '/tmp/y'), 'remove', 'blockAccess', deps(join(dir, 'q')))).toHaveLength(1);
  });

  it('refuses to act when a directory on the way was swapped for a link out of the container, or the file changed', async () => {
    const root = join(dir, 'c2');
    const host = join(dir, 'host-etc');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(host);
    writeFileSync(join(root, 'etc/x'), 'bad');
    writeFileSync(join(host, 'x'), 'precious host file');
    const s = await suspect(root, '/etc/x');
    // The container replaces /etc by a link to a host directory holding a file of the same name.
    renameSync(join(root, 'etc'), join(root, 'etc.old'));
    symlinkSync(host, join(root, 'etc'));
    for (const action of ['remove', 'disinfect', 'blockAccess'] as const) {
      const [outcome] = await applyActions(s, action, action, deps(join(dir, 'q2')));
      expect(outcome).toMatchObject({ action, ok: false, detail: '/etc is no longer a directory' });
    }
    expect(readFileSync(join(host, 'x'), 'utf8')).toBe('precious host file');
    expect(lstatSync(join(host, 'x')).mode & 0o777).not.toBe(0);
    // A file rewritten since its scan is not the one scanned.
    writeFileSync(join(root, 'etc.old/x'), 'bad, and longer now');
    const [changed] = await applyActions({ ...s, path: '/etc.old/x' }, 'remove', 'remove', deps(join(dir, 'q2')));
    expect(changed).toMatchObject({ ok: false, detail: expect.stringContaining('changed since it was scanned') });
  });
});

describe('the scan queue', () => {
  it('lets a changing file settle, keeps one entry per file, and refuses change notifications when full', () => {
    let clock = 0;
    const q = new ScanQueue(2, 100, () => clock);
    expect(q.changed({ target: 'c', path: '/a', trigger: 'change' })).toBe(true);
    clock = 50;
    expect(q.changed({ target: 'c', path: '/a', trigger: 'change' })).toBe(true);
    expect(q.changed({ target: 'c', path: '/b', trigger: 'change' })).toBe(true);
    expect(q.changed({ target: 'c', path: '/c', trigger: 'change' })).toBe(false);
    clock = 120;
    expect(q.take()).toBeUndefined(); // /a changed again at 50: due at 150
    clock = 150;
    expect(q.take()?.path).toBe('/a');
    expect(q.take()?.path).toBe('/b');
    expect(q.size).toBe(0);
  });
});
