import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { bpftraceExecSource } from '../../agent-sdk/src/runtime/bpftrace-shim.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { killIfSame } from '../../agent-sdk/src/runtime/kill.ts';
import { NodeAgent } from '../../agent-sdk/src/runtime/node-agent.ts';
import { buildRuntimeBundle } from './support.ts';

/**
 * Live, on this machine's kernel: bpftrace (through the thin shim into Tetragon's shape) reports a scratch program a
 * profile forbids; in Enforce mode the node agent kills it (user space, after the fact), in Audit mode it only
 * alerts. Filters on its own scratch directory; needs root on Linux with bpftrace (`.ci/run` installs it).
 */
function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  if (spawnSync('bpftrace', ['--version']).status !== 0) return 'bpftrace is not installed';
  if (!existsSync('/sys/kernel/tracing/available_events')) spawnSync('mount', ['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']);
  if (!existsSync('/sys/kernel/tracing/available_events')) return 'tracefs is not mounted and cannot be';
  return undefined;
}
const reason = skipReason();
if (reason) console.log(`bpftrace live test skipped: ${reason}`);

const until = async (what: string, cond: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(reason !== undefined)('live: bpftrace sensor, node agent decisions and user-space kill', () => {
  const dir = mkdtempSync('/tmp/palisade-live-');
  const sensor = join(dir, 'events.jsonl');
  const audit: AuditEventV1[] = [];
  const children: ChildProcess[] = [];
  let shim: ChildProcess;
  let agent: NodeAgent;
  let shimError = '';

  beforeAll(async () => {
    writeFileSync(sensor, '');
    const sleep = execFileSync('sh', ['-c', 'command -v sleep']).toString().trim();
    copyFileSync(sleep, join(dir, 'enforce-sleep'));
    copyFileSync(sleep, join(dir, 'audit-sleep'));
    execFileSync('chmod', ['755', join(dir, 'enforce-sleep'), join(dir, 'audit-sleep')]);
    const { bundle } = buildRuntimeBundle({
      runtimeProfiles: [
        { name: 'no-enforce', executables: { enabled: true, mode: 'blockListed', executables: [{ path: `${dir}/enforce-*` }], exclusions: [] } },
        { name: 'no-audit', executables: { enabled: true, mode: 'blockListed', executables: [{ path: `${dir}/audit-*` }], exclusions: [] } },
      ],
      policies: [
        { name: 'enforce', mode: 'enforce', containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'live' }, profileIds: ['no-enforce'] }] } },
        { name: 'audit', mode: 'audit', containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'live' }, profileIds: ['no-audit'] }] } },
      ],
    });
    agent = new NodeAgent({
      node: 'local',
      settings: NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: sensor, fromStart: true }], listen: '127.0.0.1', port: 0, tetragonPolicies: false, podWatch: false }),
      bundle: () => ({ content: bundle, revision: 1 }),
      onAudit: (events) => audit.push(...events),
      resolve: async () => ({ addresses: [] }),
      kill: (pid, binary) => killIfSame(pid, binary),
    });
    await agent.start(dir);
    let ready = false;
    shim = bpftraceExecSource({
      pathPrefix: dir,
      pod: { namespace: 'live', name: 'scratch', container: 'main', image: 'local/scratch:1', labels: { app: 'live' } },
      onLine: (line) => appendFileSync(sensor, line + '\n'),
      onReady: () => (ready = true),
      onExit: (code, stderr) => (shimError = `bpftrace exited ${code}: ${stderr}`),
    });
    await until('bpftrace attached', () => ready || shimError !== '', 60_000);
    if (!ready) throw new Error(shimError);
  }, 90_000);

  afterAll(async () => {
    for (const c of [shim, ...children]) if (c?.pid && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports the forbidden scratch program and, in Enforce mode, kills it', async () => {
    const child = spawn(join(dir, 'enforce-sleep'), ['60'], { stdio: 'ignore' });
    children.push(child);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, signal) => r(signal)));
    expect(await exited).toBe('SIGKILL');
    await until('the blocked event', () => audit.some((e) => e.verdict === 'blocked'));
    const event = audit.find((e) => e.verdict === 'blocked')!;
    expect(event).toMatchObject({ kind: 'process', mode: 'enforce', policy: { name: 'enforce' }, workload: { namespace: 'live', pod: 'scratch' } });
    expect(event.checks[0]!.message).toContain('killed by the node agent after it started');
    expect(agent.processor.counters.killed).toBe(1);
  }, 60_000);

  it('in Audit mode reports without killing', async () => {
    const child = spawn(join(dir, 'audit-sleep'), ['1'], { stdio: 'ignore' });
    children.push(child);
    const exit = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.on('exit', (code, signal) => r([code, signal])));
    expect(exit).toEqual([0, null]);
    await until('the alerted event', () => audit.some((e) => e.verdict === 'alerted'));
    expect(audit.find((e) => e.verdict === 'alerted')).toMatchObject({ kind: 'process', mode: 'audit', policy: { name: 'audit' } });
    const c = agent.processor.counters;
    expect(c.received).toBe(c.evaluated + Object.values(c.dropped).reduce((a, b) => a + b, 0));
  }, 60_000);
});
