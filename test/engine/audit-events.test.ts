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

  it('makes one valid event per decision, each finding a check attributed to its policy, mode and container', () => {
    expect(events).toHaveLength(1);
    const parsed = AuditEventV1.safeParse(events[0]);
    expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 2))).toBe(true);
    expect(events[0]!.checks.map((c) => [c.policy?.name, c.mode, c.container ?? '(pod)', c.id]).sort()).toEqual([
      ['audit', 'audit', 'side', 'bestPracticeCheck.imageDigestPinned'],
      ['audit', 'audit', 'side', 'bestPracticeCheck.imageTagNotLatest'],
      ['enforce', 'enforce', '(pod)', 'limitContainerPrivileges.hostPID'],
      ['enforce', 'enforce', 'app', 'limitContainerPrivileges.addedCapabilities'],
      ['enforce', 'enforce', 'app', 'limitContainerPrivileges.privileged'],
    ]);
    expect(events[0]!.checks.find((c) => c.container === 'app')).toMatchObject({ image: `ghcr.io/acme/web@${D}` });
    expect(events[0]!.checks.find((c) => c.container === 'side')).toMatchObject({ image: 'busybox' });
  });

  it('stamps verdict, mode, severity, bundle revision, time and the workload; no single policy or container at the top', () => {
    expect(events[0]).toMatchObject({
      kind: 'admission',
      verdict: 'blocked',
      mode: 'enforce',
      severity: 'critical',
      bundleRevision: 12,
      time: '2026-06-01T12:00:00.000Z',
      workload: { namespace: 'shop', kind: 'Pod', name: 'web-1', pod: 'web-1' },
    });
    expect(events[0]).not.toHaveProperty('policy');
    expect(events[0]!.workload).not.toHaveProperty('container');
    expect(JSON.stringify(events)).not.toMatch(/tenant|cluster/i);
  });

  it('puts policy, container, image and digest at the top when every finding shares them; audit-only is alerted', () => {
    const single = { kind: 'Pod', metadata: { name: 'one' }, spec: { containers: [{ name: 'app', image: `ghcr.io/acme/web:latest@${D}`, securityContext: { privileged: true } }] } };
    const [blocked] = auditEvents(evaluate(bundle, { object: single }, { now, bundleRevision: 1 }), { object: single }, { newId, now });
    expect(blocked).toMatchObject({ verdict: 'blocked', policy: { name: 'enforce' } });
    const onlyAudit = { kind: 'Pod', metadata: { name: 'two' }, spec: { containers: [{ name: 'side', image: 'busybox' }] } };
    const [alerted] = auditEvents(evaluate(bundle, { object: onlyAudit }, { now, bundleRevision: 1 }), { object: onlyAudit }, { newId, now });
    expect(alerted).toMatchObject({ verdict: 'alerted', mode: 'audit', severity: 'low', policy: { name: 'audit' }, workload: { container: 'side', image: 'busybox' } });
    expect(alerted!.workload).not.toHaveProperty('digest');
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
