import { describe, expect, it } from 'vitest';
import { AuditEventV1 } from '../../schema/audit-event.ts';
import { auditEvents, evaluate } from '../src/engine/index.ts';
import { buildBundle } from '../../test/engine/support/bundle.ts';

/**
 * An admitted workload that breaks an Audit-mode policy must leave an event the control plane accepts. The server
 * refuses (and the agent then drops as `rejected`) an event whose check message passes 4096 characters, so a pod
 * padding a violation (the same capability added hundreds of times, hundreds of host ports) must not be able to make
 * its own alert vanish.
 */
describe('audit events stay within the AuditEventV1 limits', () => {
  const { bundle } = buildBundle({
    policies: [{ name: 'audit', mode: 'audit', limitContainerPrivileges: { enabled: true, settings: ['addedCapabilities', 'hostPorts'] } }],
  });
  const pod = {
    kind: 'Pod',
    metadata: { name: 'padded' },
    spec: {
      containers: [
        {
          name: 'app',
          image: 'ghcr.io/acme/app:1',
          securityContext: { capabilities: { add: Array(700).fill('NET_ADMIN') } },
          ports: Array.from({ length: 900 }, (_, i) => ({ containerPort: 10_000 + i, hostPort: 10_000 + i })),
        },
      ],
    },
  };
  const now = new Date('2026-06-01T00:00:00Z');
  let n = 0;
  const newId = () => `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`;

  it('clips over-long check messages so the event is still valid (and still says what happened)', () => {
    const input = { object: pod, namespace: 'shop' };
    const decision = evaluate(bundle, input, { now, bundleRevision: 3 });
    expect(decision.allowed).toBe(true);
    const events = auditEvents(decision, input, { newId, now });
    expect(events).toHaveLength(1);
    const parsed = AuditEventV1.safeParse(events[0]);
    expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 2))).toBe(true);
    expect(events[0]!.checks.map((c) => c.id)).toEqual(['limitContainerPrivileges.addedCapabilities', 'limitContainerPrivileges.hostPorts']);
    expect(events[0]!.checks.every((c) => c.message.length <= 4096 && c.message.endsWith('...'))).toBe(true);
    expect(events[0]!.checks[0]!.message).toMatch(/^container "app" adds capabilities NET_ADMIN, NET_ADMIN/);
  });

  it('makes one event per review however many findings: 256 checks, Enforce-mode and severe first, the rest counted', () => {
    const { bundle: hostBundle } = buildBundle({
      policies: [
        { name: 'host', mode: 'audit', limitContainerPrivileges: { enabled: true, settings: ['hostPathVolumes'] } },
        { name: 'pid', mode: 'enforce', limitContainerPrivileges: { enabled: true, settings: ['hostPID'] } },
      ],
    });
    // 300 unmounted hostPath volumes are 300 Audit-mode findings, next to the Enforce-mode hostPID one they would otherwise bury.
    const object = {
      kind: 'Pod',
      metadata: { name: 'noisy' },
      spec: { hostPID: true, containers: [{ name: 'app', image: 'ghcr.io/acme/app:1' }], volumes: Array.from({ length: 300 }, (_, i) => ({ name: `v${i}`, hostPath: { path: `/tmp/${i}` } })) },
    };
    const input = { object, namespace: 'shop' };
    const decision = evaluate(hostBundle, input, { now, bundleRevision: 3 });
    expect(decision.findings).toHaveLength(301);
    const events = auditEvents(decision, input, { newId, now });
    expect(events).toHaveLength(1);
    const parsed = AuditEventV1.safeParse(events[0]);
    expect(parsed.success, JSON.stringify(parsed.error?.issues.slice(0, 2))).toBe(true);
    expect(events[0]!.checks).toHaveLength(256);
    expect(events[0]!.omittedChecks).toBe(45);
    expect(events[0]!.checks.map((c) => c.id)).toContain('limitContainerPrivileges.hostPID');
    expect(events[0]).toMatchObject({ verdict: 'blocked', mode: 'enforce' });
  });
});
