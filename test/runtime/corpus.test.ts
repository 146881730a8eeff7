import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../agent-sdk/src/runtime/cidr.ts';
import { evaluateRuntimeEvent } from '../../agent-sdk/src/runtime/evaluator.ts';
import { adaptFalco } from '../../agent-sdk/src/runtime/falco.ts';
import type { PodInfo } from '../../agent-sdk/src/runtime/mapping.ts';
import type { FqdnIndex } from '../../agent-sdk/src/runtime/network.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { RuntimeRules } from '../../agent-sdk/src/runtime/rules.ts';
import { adaptTetragon, type Adapted } from '../../agent-sdk/src/runtime/tetragon.ts';
import { tetragonConnect, tetragonExec, tetragonLsmExec, type ShapePod } from '../../agent-sdk/src/runtime/tetragon-shape.ts';
import { readObjects, yamlFiles } from '../engine/support/fixtures.ts';
import { buildRuntimeBundle, fixtureLine, type RuntimeBundleSpec } from './support.ts';

/**
 * Recorded and generated runtime event streams with their expected decisions, as data: each file under corpus/
 * holds profiles, policies and cases. A case is a real sample line (`tetragon:` / `falco:` `file#line`), a raw line,
 * or a generated Tetragon-shaped event (`exec`, `lsm`, `connect`) in one of the file's `pods`. Expected findings are
 * `policy:check:profile`; `drop` names the adapter's drop reason instead.
 */
interface Case {
  name: string;
  tetragon?: string;
  falco?: string;
  raw?: string;
  exec?: { pod?: string; binary: string };
  lsm?: { pod?: string; binary: string; override?: boolean };
  connect?: { pod?: string; remote: string; local?: string; direction?: 'egress' | 'ingress'; protocol?: 'TCP' | 'UDP' | 'SCTP' };
  expect: { verdict?: string; findings?: string[]; drop?: string; kernelAction?: string };
}
interface CorpusFile extends RuntimeBundleSpec {
  pods?: Record<string, ShapePod>;
  podCache?: PodInfo[];
  resolve?: Record<string, string[]>;
  cases: Case[];
}

const hostPort = (s: string) => {
  const colon = s.lastIndexOf(':');
  return { address: s.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(s.slice(colon + 1)) };
};
const time = '2026-06-01T00:00:00Z';
const proc = { pid: 4242, binary: '/bin/sh', args: '-c x' };

function adapt(c: Case, pods: Record<string, ShapePod>): Adapted {
  const pod = (name?: string) => (name ? pods[name] : undefined);
  if (c.tetragon) return adaptTetragon(fixtureLine(c.tetragon));
  if (c.falco) return adaptFalco(fixtureLine(c.falco));
  if (c.raw !== undefined) return adaptTetragon(c.raw);
  if (c.exec) return adaptTetragon(JSON.stringify(tetragonExec({ time, pod: pod(c.exec.pod), process: { ...proc, binary: c.exec.binary }, parent: proc })));
  if (c.lsm) return adaptTetragon(JSON.stringify(tetragonLsmExec({ time, pod: pod(c.lsm.pod), process: proc, binary: c.lsm.binary, override: c.lsm.override })));
  const n = c.connect!;
  const line = tetragonConnect({ time, pod: pod(n.pod), process: proc, direction: n.direction ?? 'egress', protocol: n.protocol, local: hostPort(n.local ?? '10.244.0.5:40000'), remote: hostPort(n.remote) });
  return adaptTetragon(JSON.stringify(line));
}

const files = yamlFiles(join(import.meta.dirname, 'corpus')).map((file) => ({ name: basename(file), spec: readObjects(file)[0] as unknown as CorpusFile }));

describe.each(files)('runtime corpus $name', ({ name, spec }) => {
  const { bundle, profileNames } = buildRuntimeBundle(spec);
  const rules = new RuntimeRules(bundle, 7);
  const cache = new PodCache();
  for (const p of spec.podCache ?? []) cache.set(p);
  const byAddress = new Map<string, Set<string>>();
  for (const [host, addresses] of Object.entries(spec.resolve ?? {}))
    for (const a of addresses) {
      const ip = parseIp(a)!;
      const key = `${ip.family}:${ip.value}`;
      (byAddress.get(key) ?? byAddress.set(key, new Set()).get(key)!).add(host);
    }
  const names: FqdnIndex = { namesOf: (ip) => byAddress.get(`${ip.family}:${ip.value}`) };

  it.each(spec.cases.map((c) => ({ ...c, label: `${name}: ${c.name}` })))('$label', (c) => {
    const adapted = adapt(c, spec.pods ?? {});
    if (c.expect.drop) {
      expect(adapted).toEqual({ drop: c.expect.drop });
      return;
    }
    expect('event' in adapted, JSON.stringify(adapted)).toBe(true);
    const event = (adapted as { event: Parameters<typeof evaluateRuntimeEvent>[0] }).event;
    const decision = evaluateRuntimeEvent(event, rules, new Date(time), cache, names);
    const keys = decision.findings.map((f) => `${f.policy.name}:${f.check}:${profileNames.get(f.profile.id)}`).sort();
    expect(keys, JSON.stringify(decision.findings, null, 1)).toEqual([...(c.expect.findings ?? [])].sort());
    expect(decision.verdict).toBe(c.expect.verdict);
    if (c.expect.kernelAction) expect(event.kernelAction).toBe(c.expect.kernelAction);
  });
});
