import { describe, expect, it } from 'vitest';
import { auditEvents } from '../src/engine/index.ts';
import { admit } from '../src/webhook/admission.ts';
import { buildBundle } from '../../test/engine/support/bundle.ts';

/**
 * Deciding is synchronous, on the webhook's one event loop: while one request is decided, every other admission
 * request of the cluster waits (and times out after the webhook's 5 s, denied by `failurePolicy: Fail`). So the
 * cost of one decision must stay about linear in the size of the object. A pod of 20 000 containers and 20 000
 * hostPath volumes is 1.5 MB, well under the API server's 3 MiB request limit; anyone allowed to create pods can
 * send it.
 */
describe('admission cost is linear in the object', () => {
  const { bundle } = buildBundle({
    policies: [
      { name: 'pss', mode: 'enforce', limitContainerPrivileges: { enabled: true, preset: 'baseline' } },
      { name: 'vol', mode: 'audit', volumesBlocked: { enabled: true, paths: ['/'] } },
    ],
  });
  const N = 20_000;
  const object = {
    kind: 'Pod',
    metadata: { name: 'wide' },
    spec: {
      containers: Array.from({ length: N }, (_, i) => ({ name: `c${i}`, image: 'a', ...(i === 0 ? { volumeMounts: [{ name: 'v0', mountPath: '/m' }] } : {}) })),
      volumes: Array.from({ length: N }, (_, i) => ({ name: `v${i}`, hostPath: { path: `/x${i}` } })),
    },
  };

  // Quadratic steps made these take 10-30 s; the explicit timeout is the only clock (no timing assertions).
  it('decides a 1.5 MB pod, and makes its audit events, in well under the webhook timeout', { timeout: 8_000 }, () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const outcome = admit({ uid: 'u', operation: 'CREATE', namespace: 'ns', object }, { bundle: { content: bundle, revision: 1, expiresAt: new Date('2026-06-02T00:00:00Z') }, now, failurePolicy: 'closed', graceMs: 0 });
    const events = auditEvents(outcome.decision!, outcome.input!, { newId: () => '01900000-0000-7000-8000-000000000000', now });
    expect(outcome.response.allowed).toBe(false);
    const findings = outcome.decision!.findings;
    expect(findings.filter((f) => f.check === 'limitContainerPrivileges.baseline.hostPathVolumes')).toHaveLength(N);
    expect(findings.filter((f) => f.check === 'volumesBlocked' && f.container === 'c0')).toHaveLength(1); // mounted: on the container
    expect(findings.filter((f) => f.check === 'volumesBlocked' && f.container === undefined)).toHaveLength(N - 1); // the rest: on the pod
    // One event per review, capped at 256 checks: a 20 000-container pod cannot flood the audit pipeline (issue 8).
    expect(events).toHaveLength(1);
    expect(events[0]!.checks).toHaveLength(256);
    expect(events[0]!.omittedChecks).toBe(2 * N - 256);
  });

  it('judges AppArmor annotations without a scan of every container per annotation', { timeout: 8_000 }, () => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 4000; i++) annotations[`container.apparmor.security.beta.kubernetes.io/x${i}`] = 'unconfined'; // ~270 KB, about the API server's cap
    annotations['container.apparmor.security.beta.kubernetes.io/c7'] = 'unconfined';
    const pod = { kind: 'Pod', metadata: { name: 'wide', annotations }, spec: { containers: Array.from({ length: 80_000 }, (_, i) => ({ name: `c${i}`, image: 'a' })) } };
    const now = new Date('2026-06-01T00:00:00Z');
    const outcome = admit({ uid: 'u', operation: 'CREATE', namespace: 'ns', object: pod }, { bundle: { content: bundle, revision: 1, expiresAt: new Date('2026-06-02T00:00:00Z') }, now, failurePolicy: 'closed', graceMs: 0 });
    const appArmor = outcome.decision!.findings.filter((f) => f.check === 'limitContainerPrivileges.baseline.appArmorProfile');
    expect(appArmor).toHaveLength(4001);
    expect(appArmor.filter((f) => f.container === 'c7')).toHaveLength(1);
  });
});
