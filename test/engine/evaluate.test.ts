import { describe, expect, it } from 'vitest';
import { evaluate } from '../../agent-sdk/src/engine/index.ts';
import { buildBundle } from './support/bundle.ts';

const now = new Date('2026-06-01T00:00:00Z');
const { bundle } = buildBundle({
  policies: [
    {
      name: 'mixed',
      mode: 'enforce',
      registriesAllowed: { enabled: true, registries: ['docker.io'] },
      volumesBlocked: { enabled: true, paths: ['/etc'] },
      bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest'] },
      imageContentProtection: { enabled: true, rules: [] },
    },
  ],
});
const pod = { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'nginx', volumeMounts: [{ name: 'v', mountPath: '/v' }] }], volumes: [{ name: 'v', hostPath: { path: '/etc/ssh' } }] } };

const deepFreeze = <T>(o: T): T => {
  if (o && typeof o === 'object') for (const v of Object.values(o)) deepFreeze(v);
  return Object.freeze(o);
};

describe('evaluate', () => {
  it('reports each enabled section as pass or fail, and sections enforced elsewhere as skip', () => {
    const d = evaluate(bundle, { object: pod }, { now, bundleRevision: 3 });
    expect(d.policies[0]).toMatchObject({
      status: 'applied',
      rules: [
        { check: 'imageReference', status: 'pass' },
        { check: 'registriesAllowed', status: 'pass' },
        { check: 'volumesBlocked', status: 'fail' },
        { check: 'bestPracticeCheck', status: 'fail' },
        { check: 'imageContentProtection', status: 'pass' },
      ],
    });
    expect(d).toMatchObject({ allowed: false, bundleRevision: 3, workload: { kind: 'Pod', name: 'p', namespace: 'default' } });
    expect(d.findings[0]).toMatchObject({ policy: { name: 'mixed', revision: 1 }, mode: 'enforce', check: 'volumesBlocked', container: 'c', image: 'nginx', severity: 'high' });
  });

  it('is deterministic and leaves its inputs untouched', () => {
    const frozenPod = deepFreeze(structuredClone(pod));
    const frozenBundle = deepFreeze(structuredClone(bundle));
    const a = evaluate(frozenBundle, { object: frozenPod }, { now, bundleRevision: 1 });
    expect(evaluate(frozenBundle, { object: frozenPod }, { now, bundleRevision: 1 })).toEqual(a);
    expect(frozenPod).toEqual(pod);
  });

  it('fails closed when the pod cannot be read', () => {
    const hostile = { kind: 'Pod', metadata: { name: 'h' }, spec: { containers: [{ name: 'c', image: 'nginx:1' }], volumes: [{ name: 'v', get hostPath(): never { throw new Error('boom'); } }] } };
    const d = evaluate(bundle, { object: hostile }, { now, bundleRevision: 1 });
    expect(d.allowed).toBe(false);
    expect(d.malformed).toEqual([{ pointer: '', message: 'cannot be read: boom' }]);
  });

  it('allows what is not a workload, without evaluating any policy', () => {
    expect(evaluate(bundle, { object: { kind: 'Service', metadata: { name: 's' } } }, { now, bundleRevision: 1 })).toEqual({ allowed: true, bundleRevision: 1, findings: [], runtimeProfiles: {}, policies: [] });
  });
});
