import { describe, expect, it } from 'vitest';
import { auditEvents, evaluate } from '../../agent-sdk/src/engine/index.ts';
import { AuditEventV1 } from '../../schema/audit-event.ts';
import { buildBundle } from './support/bundle.ts';

const { bundle } = buildBundle({
  policies: [
    { name: 'enforce', mode: 'enforce', limitContainerPrivileges: { enabled: true, settings: ['privileged', 'hostPID', 'addedCapabilities'] } },
    { name: 'audit', mode: 'audit', bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'imageDigestPinned'] } },
  ],
});
const D = `sha256:${'e'.repeat(64)}`;
const pod = {
  kind: 'Pod',
  metadata: { name: 'web-1' },
  spec: {
    hostPID: true,
    containers: [
      { name: 'app', image: `ghcr.io/acme/web@${D}`, securityContext: { privileged: true, capabilities: { add: ['SYS_ADMIN'] } } },
      { name: 'side', image: 'busybox' },
    ],
  },
};
let n = 0;
const newId = () => `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`;
const now = new Date('2026-06-01T12:00:00Z');

describe('auditEvents', () => {
  const input = { object: pod, namespace: 'shop' };
  const decision = evaluate(bundle, input, { now, bundleRevision: 12 });
  const events = auditEvents(decision, input, { newId, now });

  it('makes one valid event per policy and container, the checks of that pair inside', () => {
    expect(events.map((e) => AuditEventV1.safeParse(e).success)).toEqual(events.map(() => true));
    expect(events.map((e) => [e.policy?.name, e.workload?.container ?? '(pod)', e.checks.map((c) => c.id)])).toEqual([
      ['enforce', 'app', ['limitContainerPrivileges.privileged', 'limitContainerPrivileges.addedCapabilities']],
      ['enforce', '(pod)', ['limitContainerPrivileges.hostPID']],
      ['audit', 'side', ['bestPracticeCheck.imageTagNotLatest', 'bestPracticeCheck.imageDigestPinned']],
    ]);
  });

  it('stamps verdict, mode, severity, bundle revision, time and the workload with image and digest', () => {
    expect(events[0]).toMatchObject({
      kind: 'admission',
      verdict: 'blocked',
      mode: 'enforce',
      severity: 'critical',
      bundleRevision: 12,
      time: '2026-06-01T12:00:00.000Z',
      workload: { namespace: 'shop', kind: 'Pod', name: 'web-1', pod: 'web-1', container: 'app', image: `ghcr.io/acme/web@${D}`, digest: D },
    });
    expect(events[2]).toMatchObject({ verdict: 'alerted', mode: 'audit', severity: 'low', workload: { container: 'side', image: 'busybox' } });
    expect(events[2]!.workload).not.toHaveProperty('digest');
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(JSON.stringify(events)).not.toMatch(/tenant|cluster/i);
  });

  it('names a workload template without a pod, and yields nothing for a clean decision', () => {
    const deployment = { kind: 'Deployment', metadata: { name: 'web', namespace: 'shop' }, spec: { template: { spec: pod.spec } } };
    const d = evaluate(bundle, { object: deployment }, { now, bundleRevision: 1 });
    const [first] = auditEvents(d, { object: deployment }, { newId, now });
    expect(first!.workload).toMatchObject({ kind: 'Deployment', name: 'web', namespace: 'shop' });
    expect(first!.workload).not.toHaveProperty('pod');
    const clean = { kind: 'Pod', metadata: { name: 'ok' }, spec: { containers: [{ name: 'c', image: `nginx:1@${D}` }] } };
    expect(auditEvents(evaluate(bundle, { object: clean }, { now, bundleRevision: 1 }), { object: clean }, { newId, now })).toEqual([]);
  });
});
