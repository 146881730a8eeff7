import { describe, expect, it } from 'vitest';
import { evaluate, workloadShapeProblems } from '../../agent-sdk/src/engine/index.ts';
import { buildBundle } from './support/bundle.ts';

const { bundle } = buildBundle({ policies: [{ name: 'audit-only', mode: 'audit', bestPracticeCheck: { enabled: true, checks: ['memoryLimitsSet'] } }] });
const decide = (object: unknown) => evaluate(bundle, { object }, { now: new Date('2026-06-01T00:00:00Z'), bundleRevision: 1 });

describe('malformed workloads are refused, not half-read (fail closed)', () => {
  it.each([
    ['privileged as a string', { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx:1', securityContext: { privileged: 'true' } }] } }, '/spec/containers/0/securityContext/privileged'],
    ['containers as an object', { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: { name: 'c', image: 'nginx:1', securityContext: { privileged: true } } } }, '/spec/containers'],
    ['hostPID as a string in a Deployment template', { kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { hostPID: 'yes', containers: [] } } } }, '/spec/template/spec/hostPID'],
    ['capabilities.add as a string in a CronJob', { kind: 'CronJob', metadata: { name: 'c' }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { add: 'SYS_ADMIN' } } }] } } } } } }, '/spec/jobTemplate/spec/template/spec/containers/0/securityContext/capabilities/add'],
    ['a hostPath path that is not a string', { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [], volumes: [{ name: 'v', hostPath: { path: 1 } }] } }, '/spec/volumes/0/hostPath/path'],
    ['runAsUser as a string', { kind: 'Pod', metadata: { name: 'p' }, spec: { securityContext: { runAsUser: '0' }, containers: [] } }, '/spec/securityContext/runAsUser'],
    ['ownerReferences as an object', { kind: 'Pod', metadata: { name: 'p', ownerReferences: { kind: 'ReplicaSet', name: 'x' } }, spec: { containers: [] } }, '/metadata/ownerReferences'],
  ])('%s: denied, with the JSON path, even under Audit-mode policies only', (_, object, pointer) => {
    const d = decide(object);
    expect(d.allowed).toBe(false);
    expect(d.malformed?.map((p) => p.pointer)).toContain(pointer);
    expect(d.message).toContain(pointer);
    expect(d.findings).toEqual([]);
    expect(workloadShapeProblems(object).map((p) => p.pointer)).toContain(pointer);
  });

  it('accepts what the API server sends: nulls for empty optionals, unknown fields, integer-or-string resources', () => {
    const pod = {
      kind: 'Pod',
      metadata: { name: 'p', creationTimestamp: null, labels: { a: 'b' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'r', uid: 'u', controller: true }] },
      spec: {
        containers: [{ name: 'c', image: 'nginx:1', resources: { limits: { memory: '1Gi', cpu: 1 } }, securityContext: null, ports: [{ containerPort: 80, protocol: 'TCP' }], futureField: { x: 1 } }],
        volumes: [{ name: 'v', emptyDir: {} }],
        securityContext: { sysctls: [{ name: 'net.ipv4.ping_group_range', value: '0 1' }] },
      },
      status: {},
    };
    expect(workloadShapeProblems(pod)).toEqual([]);
    expect(decide(pod).allowed).toBe(true);
  });
});
