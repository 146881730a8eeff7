import { describe, expect, it } from 'vitest';
import { extractWorkload } from '../../agent-sdk/src/engine/index.ts';

const spec = { containers: [{ name: 'c', image: 'nginx' }] };
const template = { metadata: { labels: { app: 'web' }, annotations: { a: 'b' } }, spec };

describe('extractWorkload', () => {
  it.each(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job'])('reads the pod template of a %s', (kind) => {
    const w = extractWorkload({ kind, metadata: { name: 'w', namespace: 'ns', labels: { not: 'these' } }, spec: { template } });
    expect(w).toMatchObject({ kind, name: 'w', namespace: 'ns', labels: { app: 'web' }, annotations: { a: 'b' }, spec, owners: [] });
  });

  it('reads a CronJob through spec.jobTemplate.spec.template', () => {
    expect(extractWorkload({ kind: 'CronJob', metadata: { name: 'cj' }, spec: { jobTemplate: { spec: { template } } } })).toMatchObject({ kind: 'CronJob', name: 'cj', spec });
  });

  it('reads a Pod, its generateName before it has a name, and its owners with the Deployment behind a ReplicaSet', () => {
    const pod = {
      kind: 'Pod',
      metadata: { generateName: 'web-5d8f7c9b6-', labels: { 'pod-template-hash': '5d8f7c9b6' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'web-5d8f7c9b6', controller: true }] },
      spec,
    };
    expect(extractWorkload(pod)).toMatchObject({
      kind: 'Pod',
      name: 'web-5d8f7c9b6-',
      owners: [{ kind: 'ReplicaSet', name: 'web-5d8f7c9b6' }, { kind: 'Deployment', name: 'web' }],
    });
  });

  it('answers undefined for other objects and workloads without a pod spec', () => {
    for (const o of [null, 42, 'Pod', {}, { kind: 'ConfigMap' }, { kind: 'Deployment', spec: {} }, { kind: 'Pod' }, { kind: 'CronJob', spec: { jobTemplate: {} } }]) expect(extractWorkload(o)).toBeUndefined();
  });
});
