import { SEVERITY_RANK, type AuditEventV1 } from '../../../schema/audit-event.ts';
import { tryParseImageReference } from '../../../schema/image-reference.ts';
import type { AdmissionInput, Decision, Finding } from './types.ts';
import { extractWorkload } from './workload.ts';

/** Checks one `AuditEventV1` may carry. */
const MAX_CHECKS = 256;
/** Cuts a text to the length `AuditEventV1` allows: the control plane refuses (and the agent loses) a longer one. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

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
    const group = groups.get(key);
    if (group) group.push(f);
    else groups.set(key, [f]);
  }
  const workload = extractWorkload(input.object);
  const kind = clip(decision.workload?.kind ?? workload?.kind ?? 'Unknown', 64);
  const name = clip(decision.workload?.name ?? workload?.name ?? '', 253);
  const namespace = clip(decision.workload?.namespace ?? input.namespace ?? workload?.namespace ?? 'default', 253);
  const time = options.now.toISOString();
  // A group over the 256 checks an event may carry is split, rather than the event being refused upstream.
  const parts = [...groups.values()].flatMap((all) => Array.from({ length: Math.ceil(all.length / MAX_CHECKS) }, (_, i) => all.slice(i * MAX_CHECKS, (i + 1) * MAX_CHECKS)));
  return parts.map((findings) => {
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
      checks: findings.map((f) => ({ id: f.check, message: clip(f.message, 4096), severity: f.severity })),
      workload: {
        namespace,
        kind,
        name,
        ...(kind === 'Pod' ? { pod: name } : {}),
        ...(first.container !== undefined ? { container: clip(first.container, 253) } : {}),
        ...(first.image ? { image: clip(first.image, 4096) } : {}),
        ...(digest && digest.length <= 256 ? { digest } : {}),
      },
      severity,
    } satisfies AuditEventV1;
  });
}
