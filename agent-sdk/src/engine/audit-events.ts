import { SEVERITY_RANK, type AuditEventV1 } from '../../../schema/audit-event.ts';
import { tryParseImageReference } from '../../../schema/image-reference.ts';
import type { AdmissionInput, Decision, Finding } from './types.ts';
import { extractWorkload } from './workload.ts';

export interface AuditEventOptions {
  /** A fresh UUIDv7 per call (the engine makes no ids itself). */
  newId: () => string;
  now: Date;
}

/**
 * The audit events of one decision: one per policy and container (pod-level findings form their own event), each
 * carrying all that policy's checks on that container, so a pod breaking three rules of one policy in one container
 * is one event with three checks. Enforce-mode groups are `blocked`, Audit-mode ones `alerted`; a decision without
 * findings yields no event. Pure apart from `newId`.
 */
export function auditEvents(decision: Decision, input: AdmissionInput, options: AuditEventOptions): AuditEventV1[] {
  const groups = new Map<string, Finding[]>();
  for (const f of decision.findings) {
    const key = `${f.policy.id}\u0000${f.container ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  const workload = extractWorkload(input.object);
  const kind = decision.workload?.kind ?? workload?.kind ?? 'Unknown';
  const name = decision.workload?.name ?? workload?.name ?? '';
  const namespace = decision.workload?.namespace ?? input.namespace ?? workload?.namespace ?? 'default';
  const time = options.now.toISOString();
  return [...groups.values()].map((findings) => {
    const first = findings[0]!;
    const severity = findings.reduce((max, f) => (SEVERITY_RANK[f.severity] > SEVERITY_RANK[max] ? f.severity : max), first.severity);
    const digest = first.image ? tryParseImageReference(first.image)?.digest : undefined;
    return {
      id: options.newId(),
      time,
      kind: 'admission',
      verdict: first.mode === 'enforce' ? 'blocked' : 'alerted',
      mode: first.mode,
      policy: { ...first.policy },
      bundleRevision: decision.bundleRevision,
      checks: findings.map((f) => ({ id: f.check, message: f.message, severity: f.severity })),
      workload: {
        namespace,
        kind,
        name,
        ...(kind === 'Pod' ? { pod: name } : {}),
        ...(first.container !== undefined ? { container: first.container } : {}),
        ...(first.image ? { image: first.image } : {}),
        ...(digest ? { digest } : {}),
      },
      severity,
    } satisfies AuditEventV1;
  });
}
