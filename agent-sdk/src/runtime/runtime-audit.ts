import { SEVERITY_RANK, type AuditEventV1 } from '../../../schema/audit-event.ts';
import type { RuntimeDecision, RuntimeFinding } from './decide.ts';
import type { RuntimeEvent } from './event.ts';

/**
 * What happened to a blocked event: refused in the kernel before it ran (`kernel`, Tetragon Override; `kernelSigkill`
 * when a policy killed it), killed by the agent after it started (`killed`, or `killFailed`), or nothing (`none`: a
 * detect-only network event, an Audit-mode finding).
 */
export type Enforcement = 'kernel' | 'kernelSigkill' | 'killed' | 'killFailed' | 'none';

const ENFORCEMENT_TEXT: Record<Enforcement, string> = {
  kernel: 'refused in the kernel before it ran (Tetragon Override)',
  kernelSigkill: 'killed in the kernel (Tetragon Sigkill)',
  killed: 'killed by the node agent after it started (user space, after the fact)',
  killFailed: 'not stopped: the node agent could not kill the process (gone, or not the same program)',
  none: 'not stopped: detect only (no kernel policy acted)',
};

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

export interface RuntimeAuditOptions {
  revision: number;
  now: Date;
  newId: () => string;
  enforcement: Enforcement;
}

/**
 * The audit events of one runtime decision: one per policy (kind `process` for exec, `network` for connections),
 * carrying that policy's findings as checks. Enforce-mode events are `blocked` and say how (kernel, killed after the
 * fact, or not stopped); Audit-mode ones are `alerted`. Pure apart from `newId`.
 */
export function runtimeAuditEvents(event: RuntimeEvent, decision: RuntimeDecision, o: RuntimeAuditOptions): AuditEventV1[] {
  const byPolicy = new Map<string, RuntimeFinding[]>();
  for (const f of decision.findings) byPolicy.set(f.policy.id, [...(byPolicy.get(f.policy.id) ?? []), f]);
  const c = event.container;
  const what =
    event.type === 'exec'
      ? `exec ${event.process.binary}${event.process.args ? ` ${event.process.args}` : ''} (pid ${event.process.pid ?? '?'}, parent ${event.parent?.binary ?? '?'})`
      : `${event.direction} ${event.protocol} ${event.local ? `${event.local.address}:${event.local.port}` : '?'} ${event.direction === 'egress' ? '->' : '<-'} ${event.remote.address}:${event.remote.port} by ${event.process.binary}`;
  return [...byPolicy.values()].map((findings) => {
    const first = findings[0]!;
    const enforce = first.mode === 'enforce';
    const how = enforce ? ENFORCEMENT_TEXT[o.enforcement] : 'reported (Audit mode)';
    const severity = findings.reduce((m, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[m] ? f.severity : m), first.severity);
    const owner = c.workload && c.workload.kind !== 'Pod' ? c.workload : undefined;
    return {
      id: o.newId(),
      time: o.now.toISOString(),
      kind: event.type === 'exec' ? 'process' : 'network',
      verdict: enforce ? 'blocked' : 'alerted',
      mode: first.mode,
      policy: { ...first.policy },
      bundleRevision: o.revision,
      checks: findings.slice(0, 256).map((f) => ({ id: f.check, message: clip(`${f.message}: ${what}; ${how} [${event.sensor}${event.node ? ` on ${event.node}` : ''}]`, 4096), severity: f.severity })),
      workload: {
        namespace: clip(c.namespace, 253),
        kind: owner ? clip(owner.kind, 64) : 'Pod',
        name: clip(owner?.name ?? c.pod, 253),
        pod: clip(c.pod, 253),
        ...(c.container ? { container: clip(c.container, 253) } : {}),
        ...(c.image ? { image: clip(c.image, 4096) } : {}),
        ...(c.imageDigest && c.imageDigest.length <= 256 ? { digest: c.imageDigest } : {}),
      },
      severity,
    } satisfies AuditEventV1;
  });
}
