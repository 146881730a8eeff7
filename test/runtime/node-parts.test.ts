import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { cli } from '../../agent-sdk/test/support/cli.ts';
import { parseIp } from '../../agent-sdk/src/runtime/cidr.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { FileTail } from '../../agent-sdk/src/runtime/file-tail.ts';
import { FqdnResolver } from '../../agent-sdk/src/runtime/fqdn.ts';
import { NodeAgent } from '../../agent-sdk/src/runtime/node-agent.ts';
import { RuntimeProcessor } from '../../agent-sdk/src/runtime/processor.ts';
import { AgentEnforcement } from '../../schema/enforcement.ts';
import { REPO_ROOT } from '../engine/support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-node-parts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('FQDN resolver', () => {
  it('resolves listed names, refreshes on the TTL, keeps dropped addresses for the grace period, and skips wildcards', async () => {
    let clock = 0;
    let answer = ['192.0.2.1', '2001:db8::1'];
    const asked: string[] = [];
    let changes = 0;
    const r = new FqdnResolver({ resolve: async (n) => (asked.push(n), { addresses: answer, ttlSeconds: 30 }), now: () => clock, graceMs: 60_000, onChange: () => changes++ });
    r.setNames(['api.example.com', '*.example.org']);
    await r.refresh();
    expect(asked).toEqual(['api.example.com']);
    expect([...(r.namesOf(parseIp('2001:db8::1')!) ?? [])]).toEqual(['api.example.com']);
    answer = ['192.0.2.2'];
    clock = 10_000;
    await r.refresh(); // not due yet (TTL 30 s)
    expect(asked).toHaveLength(1);
    clock = 31_000;
    await r.refresh();
    expect(r.namesOf(parseIp('192.0.2.2')!)?.has('api.example.com')).toBe(true);
    expect(r.namesOf(parseIp('192.0.2.1')!)?.has('api.example.com')).toBe(true); // within the grace
    clock = 200_000;
    await r.refresh();
    expect(r.namesOf(parseIp('192.0.2.1')!)).toBeUndefined();
    expect(r.addressesOf('api.example.com')).toEqual(['192.0.2.2']);
    expect(changes).toBeGreaterThanOrEqual(3);
  });
});

describe('sensor file follower', () => {
  it('reads appended lines, waits for a partial line, and starts over after rotation', async () => {
    const file = join(dir, 'events.log');
    writeFileSync(file, 'old\n');
    const lines: string[] = [];
    const tail = new FileTail(file, { onLine: (l) => lines.push(l), maxLineBytes: 64, onOversized: () => lines.push('<oversized>') });
    await tail.poll();
    expect(lines).toEqual([]); // starts at the end, like tail -F
    appendFileSync(file, 'a\nb');
    await tail.poll();
    appendFileSync(file, 'c\n' + 'x'.repeat(100) + '\nd\n');
    await tail.poll();
    expect(lines).toEqual(['a', 'bc', '<oversized>', 'd']);
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'new\n');
    await tail.poll();
    expect(lines.at(-1)).toBe('new');
    await tail.stop();
  });
});

describe('queue bounds and counters', () => {
  it('drops beyond the capacity and keeps received = evaluated + dropped', () => {
    const p = new RuntimeProcessor({ capacity: 3, rules: () => null, newId: () => 'x', onAudit: () => undefined });
    for (let i = 0; i < 5; i++) p.push('{"process_exec":{}}', 'tetragon');
    expect(p.queued).toBe(3);
    p.drain();
    const c = p.counters;
    expect(c.received).toBe(5);
    expect(c.dropped.queueFull).toBe(2);
    expect(c.received).toBe(c.evaluated + Object.values(c.dropped).reduce((a, b) => a + b, 0));
  });
});

describe('enforcement report', () => {
  const agent = (kinds: Array<'tetragon' | 'falco'>, policies: boolean) =>
    new NodeAgent({
      node: 'node-7', settings: NodeAgentConfig.parse({ sensors: kinds.map((kind) => ({ kind, path: '/nonexistent' })) }),
      bundle: () => null, onAudit: () => undefined, resolve: async () => ({ addresses: [] }),
      ...(policies ? { policies: { list: async () => [], create: async () => undefined, replace: async () => undefined, delete: async () => undefined } } : {}),
    });
  it('declares Falco-only (or no policy sync) as detect only, and matches the shared contract', () => {
    expect(agent(['falco'], true).enforcement()).toEqual({ component: 'node', instance: 'node-7', sections: ['containerRuntimeProfiles'], detectOnly: ['containerRuntimeProfiles'] });
    expect(agent(['tetragon'], false).enforcement().detectOnly).toEqual(['containerRuntimeProfiles']);
    const kernel = agent(['tetragon', 'falco'], true).enforcement();
    expect(kernel.detectOnly).toEqual([]);
    expect(AgentEnforcement.parse(kernel)).toEqual(kernel);
  });

  it('needs a sensor unless it only protects files, and claims no runtime profiles without one', () => {
    const noSensor = NodeAgentConfig.safeParse({ sensors: [] });
    expect(noSensor.success).toBe(false);
    expect(noSensor.error!.issues[0]).toMatchObject({ path: ['sensors'], message: expect.stringContaining('fileThreat') });
    const filesOnly = NodeAgentConfig.parse({ sensors: [], fileThreat: {} });
    const a = new NodeAgent({ node: 'node-8', settings: filesOnly, bundle: () => null, onAudit: () => undefined, resolve: async () => ({ addresses: [] }) });
    expect(a.enforcement()).toEqual({ component: 'node', instance: 'node-8', sections: [], detectOnly: [] });
  });
});

describe('CLI and manifests', () => {
  it('palisade-agent node names the file and the problem when the configuration has no node section', async () => {
    const config = join(dir, 'config.json');
    writeFileSync(join(dir, 'credential'), 'pk_test');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'k1' }] }));
    writeFileSync(config, JSON.stringify({ url: 'https://cp.example.com', clusterId: 'c1', tenantId: '00000009-0000-4000-8000-000000000001', issuer: 'i', credentialFile: 'credential', trustFile: 'jwks.json', stateDir: 'state' }));
    const run = await cli('node', '--config', config);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${config}: no "node" section`);
  });

  it('the DaemonSet runs everywhere with host pids, the node name, read-only sensor mounts and only KILL and SYS_PTRACE', () => {
    const load = (f: string) => parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/kubernetes', f), 'utf8')).map((d) => d.toJS());
    const [ds] = load('daemonset.yaml');
    const pod = ds.spec.template.spec;
    const agent = pod.containers[0];
    expect(pod.hostPID).toBe(true);
    expect(pod.tolerations).toContainEqual({ operator: 'Exists' });
    expect(agent.command).toEqual(['node', 'agent-sdk/bin/palisade-agent.mjs', 'node', '--config', '/etc/palisade/config/config.json']);
    expect(agent.env).toContainEqual({ name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } });
    expect(agent.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'], add: ['KILL', 'SYS_PTRACE'] } });
    for (const m of agent.volumeMounts.filter((v: any) => ['tetragon', 'falco', 'config', 'credential'].includes(v.name))) expect(m.readOnly).toBe(true);
    const [sa, role, binding] = load('daemonset-rbac.yaml');
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['cilium.io'], resources: ['tracingpoliciesnamespaced'], verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'] },
    ]);
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: ds.metadata.namespace }]);
    expect(load('daemonset-namespace.yaml')[0].metadata.name).toBe(ds.metadata.namespace);
  });

  it('File Threat Protection is opt-in: its patch adds only the capabilities the scanner and its actions need', () => {
    const [ds] = parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/kubernetes/daemonset.yaml'), 'utf8')).map((d) => d.toJS());
    const [patch] = parseAllDocuments(readFileSync(join(REPO_ROOT, 'deploy/kubernetes/file-threat/daemonset-patch.yaml'), 'utf8')).map((d) => d.toJS());
    const base = ds.spec.template.spec.containers[0];
    const patched = patch.spec.template.spec.containers[0];
    expect(patched.name).toBe(base.name); // strategic merge by container name
    expect(patched.securityContext.capabilities.drop).toEqual(['ALL']);
    const added = patched.securityContext.capabilities.add.filter((c: string) => !base.securityContext.capabilities.add.includes(c));
    expect(base.securityContext.capabilities.add.every((c: string) => patched.securityContext.capabilities.add.includes(c))).toBe(true);
    expect(added.sort()).toEqual(['DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'LINUX_IMMUTABLE']);
    expect(Object.keys(patched.securityContext)).toEqual(['capabilities']); // nothing else of the base loosened
  });
});
