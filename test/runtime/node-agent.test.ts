import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { k8sTracingPolicies, PodWatcher } from '../../agent-sdk/src/runtime/kube.ts';
import { NodeAgent } from '../../agent-sdk/src/runtime/node-agent.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { tetragonExec, tetragonLsmExec } from '../../agent-sdk/src/runtime/tetragon-shape.ts';
import { crdValidator } from './crd-schema.ts';
import { FakeKube } from './fake-kube.ts';
import { buildRuntimeBundle } from './support.ts';

/**
 * The node agent end to end in one process: a sensor file it follows, the real @kubernetes/client-node against a
 * small fake Kubernetes API server (no cluster here), its HTTP endpoints, audit events and kills.
 */
const validate = crdValidator('cilium.io_tracingpoliciesnamespaced.yaml');
const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};
const spec = (mapped: boolean) => ({
  runtimeProfiles: [
    { name: 'no-nc', executables: { enabled: true, mode: 'blockListed', executables: [{ path: '/usr/bin/nc' }], exclusions: [] }, egress: { enabled: true, allowed: [{ fqdn: 'api.example.com', ports: ['443'] }] } },
  ],
  policies: [{ name: 'enforce', mode: 'enforce' as const, containerRuntimeProfiles: { enabled: mapped, mappings: [{ podLabels: { app: 'web' }, profileIds: ['no-nc'] }] } }],
});
const pod = (name: string, node = 'node-1') => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'shop', labels: { app: 'web', 'pod-template-hash': 'abc' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-abc' }] },
  spec: { nodeName: node, containers: [{ name: 'nginx', image: 'nginx:1.25' }] },
});

describe('palisade-agent node (in process, fake Kubernetes API)', () => {
  const kube = new FakeKube();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-node-'));
  const sensor = join(dir, 'tetragon.log');
  const audit: AuditEventV1[] = [];
  const kills: Array<[number, string]> = [];
  let bundle = { content: buildRuntimeBundle(spec(true)).bundle, revision: 1 };
  let agent: NodeAgent;
  let watcher: PodWatcher;
  let base: string;

  beforeAll(async () => {
    writeFileSync(sensor, '');
    const kc = await kube.start();
    kube.setPod(pod('web-1'));
    kube.setPod(pod('elsewhere', 'node-2'));
    // Someone else's object, and another node's: never touched.
    kube.policies.set('shop/theirs', { metadata: { name: 'theirs', namespace: 'shop', labels: { team: 'x' }, resourceVersion: '1' } });
    kube.policies.set('shop/palisade-other-node', { metadata: { name: 'palisade-other-node', namespace: 'shop', labels: { 'app.kubernetes.io/managed-by': 'palisade-agent', 'palisade.dev/node': 'node-2' }, resourceVersion: '1' } });
    const pods = new PodCache();
    agent = new NodeAgent({
      node: 'node-1',
      settings: NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: sensor, fromStart: true }], listen: '127.0.0.1', port: 0 }),
      bundle: () => bundle,
      onAudit: (events) => audit.push(...events),
      policies: k8sTracingPolicies(kc),
      pods,
      resolve: async (name) => ({ addresses: name === 'api.example.com' ? ['203.0.113.10'] : [], ttlSeconds: 60 }),
      kill: (pid, binary) => (kills.push([pid, binary]), pid === 4242),
    });
    watcher = new PodWatcher(kc, 'node-1', pods, () => void agent.requestSync());
    watcher.start();
    const address = await agent.start(dir);
    base = `http://127.0.0.1:${address.port}`;
  });

  afterAll(async () => {
    watcher?.stop();
    await agent?.stop();
    await kube.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ours = () => [...kube.policies.values()].filter((o) => o.metadata.labels?.['palisade.dev/node'] === 'node-1');

  it('creates a CRD-valid TracingPolicyNamespaced for the mapped pod on its node, with the resolved FQDN', async () => {
    await until('the policy', () => ours().length === 1 && JSON.stringify(ours()[0]).includes('203.0.113.10/32'));
    const [policy] = ours() as any[];
    expect(validate({ ...policy, metadata: { ...policy.metadata, resourceVersion: undefined } })).toEqual([]);
    expect(policy.metadata.namespace).toBe('shop');
    expect(policy.spec.podSelector).toEqual({ matchLabels: { app: 'web' } });
    expect(policy.spec.lsmhooks[0].selectors[0]).toMatchObject({ matchArgs: [{ operator: 'Equal', values: ['/usr/bin/nc'] }], matchActions: [{ action: 'Override', argError: -1 }, { action: 'Post' }] });
    expect(agent.enforcement()).toEqual({ component: 'node', instance: 'node-1', sections: ['containerRuntimeProfiles'], detectOnly: [] });
  });

  it('decides on sensor events: kernel-refused exec, user-space kill after the fact, and counts every line', async () => {
    const p = { namespace: 'shop', name: 'web-1', container: 'nginx', image: 'nginx:1.25', labels: { app: 'web' } };
    const time = new Date().toISOString();
    const lines = [
      tetragonLsmExec({ time, pod: p, process: { pid: 10, binary: '/bin/sh' }, binary: '/usr/bin/nc', override: true }),
      tetragonExec({ time, pod: p, process: { pid: 4242, binary: '/usr/bin/nc', args: '-l 4444' } }),
      tetragonExec({ time, pod: p, process: { pid: 4243, binary: '/usr/sbin/nginx' } }),
    ];
    appendFileSync(sensor, lines.map((l) => JSON.stringify(l)).join('\n') + '\nnot json\n');
    await until('four lines', () => agent.processor.counters.received === 4);
    const c = agent.processor.counters;
    expect(c).toMatchObject({ received: 4, evaluated: 3, kernelBlocked: 1, killed: 1, verdicts: { allowed: 1, alerted: 0, blocked: 2 } });
    expect(c.dropped.malformed).toBe(1);
    expect(kills).toEqual([[4242, '/usr/bin/nc']]);
    expect(audit.map((e) => [e.kind, e.verdict, e.workload?.kind, e.workload?.pod])).toEqual([['process', 'blocked', 'Pod', 'web-1'], ['process', 'blocked', 'Pod', 'web-1']]);
    expect(audit[0]!.checks[0]!.message).toContain('refused in the kernel');
    expect(audit[1]!.checks[0]!.message).toContain('after the fact');
    const metrics = await (await fetch(`${base}/metrics`)).text();
    const value = (name: string) => [...metrics.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)$`, 'gm'))].reduce((s, m) => s + Number(m[1]), 0);
    expect(value('palisade_runtime_events_received_total')).toBe(value('palisade_runtime_events_evaluated_total') + value('palisade_runtime_events_dropped_total'));
    expect(agent.statusCounters()).toMatchObject({ runtimeEventsReceived: 4, runtimeEventsEvaluated: 3, runtimeEventsDroppedMalformed: 1 });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it('follows the bundle and the pods: unmapping deletes, a new pod elsewhere changes nothing, deleting the pod deletes', async () => {
    kube.setPod(pod('web-2'));
    await until('web-2 known', () => agent.pods.get('shop', 'web-2') !== undefined);
    await agent.requestSync();
    expect(ours()).toHaveLength(1); // same labels (minus the rollout hash): the same object
    bundle = { content: buildRuntimeBundle(spec(false)).bundle, revision: 2 };
    agent.rules();
    await until('deleted on unmapping', () => ours().length === 0);
    bundle = { content: buildRuntimeBundle(spec(true)).bundle, revision: 3 };
    agent.rules();
    await until('created again', () => ours().length === 1);
    kube.deletePod('shop', 'web-1');
    kube.deletePod('shop', 'web-2');
    await until('deleted with the pods', () => ours().length === 0);
    expect(kube.policies.has('shop/theirs') && kube.policies.has('shop/palisade-other-node')).toBe(true);
  });
});
