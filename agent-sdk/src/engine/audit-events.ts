import { SEVERITY_RANK, type AuditCheck, type AuditEventV1 } from '../../../schema/audit-event.ts';
import { tryParseImageReference } from '../../../schema/image-reference.ts';
import type { AdmissionInput, Decision, Finding } from './types.ts';
import { extractWorkload } from './workload.ts';

/** Checks one `AuditEventV1` may carry. */
export const MAX_CHECKS = 256;
/** Cuts a text to the length `AuditEventV1` allows: the control plane refuses (and the agent loses) a longer one. */
const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

export interface AuditEventOptions {
  /** A fresh UUIDv7 per call (the engine makes no ids itself). */
  newId: () => string;
  now: Date;
}

/** Enforce-mode findings first, then by severity: what an event keeps when a decision has more than it may carry. */
function keep(findings: readonly Finding[]): { kept: Finding[]; omitted: number } {
  if (findings.length <= MAX_CHECKS) return { kept: [...findings], omitted: 0 };
  const rank = (f: Finding) => (f.mode === 'enforce' ? 10 : 0) + SEVERITY_RANK[f.severity];
  const chosen = new Set(
    findings
      .map((f, i) => ({ f, i }))
      .sort((a, b) => rank(b.f) - rank(a.f) || a.i - b.i)
      .slice(0, MAX_CHECKS)
      .map(({ i }) => i),
  );
  return { kept: findings.filter((_, i) => chosen.has(i)), omitted: findings.length - MAX_CHECKS };
}

const single = <T>(values: Iterable<T>): T | undefined => {
  const set = new Set(values);
  return set.size === 1 ? set.values().next().value : undefined;
};

/**
 * The audit event of one decision: one event carrying every finding as a check attributed to its policy, mode,
 * container and image, so a SIEM gets one record per admission review however many policies and containers it
 * touched (the events per review are capped at one: a 10 000-container pod is still one event). `blocked` when an
 * Enforce-mode finding denied it, else `alerted`; `policy` and `workload.container`/`image` are set at the top when
 * all findings share them. Past 256 findings the event keeps the Enforce-mode and most severe ones and counts the
 * rest in `omittedChecks`. A decision without findings yields no event. Pure apart from `newId`.
 *
 * @example
 * ```ts
 * const [event] = auditEvents(decision, input, { newId: () => uuidv7(), now: new Date() });
 * ```
 */
export function auditEvents(decision: Decision, input: AdmissionInput, options: AuditEventOptions): AuditEventV1[] {
  if (decision.findings.length === 0) return [];
  const { kept, omitted } = keep(decision.findings);
  // The decision names its workload whenever it evaluated one; reading the object again is for the other cases.
  const workload = decision.workload ? undefined : extractWorkload(input.object);
  const kind = clip(decision.workload?.kind ?? workload?.kind ?? 'Unknown', 64);
  const name = clip(decision.workload?.name ?? workload?.name ?? '', 253);
  const namespace = clip(decision.workload?.namespace ?? input.namespace ?? workload?.namespace ?? 'default', 253);
  const blocked = decision.findings.some((f) => f.mode === 'enforce');
  const checks = kept.map((f): AuditCheck => ({
    id: f.check,
    message: clip(f.message, 4096),
    severity: f.severity,
    policy: { ...f.policy },
    mode: f.mode,
    ...(f.container !== undefined ? { container: clip(f.container, 253) } : {}),
    ...(f.image ? { image: clip(f.image, 4096) } : {}),
  }));
  const severity = checks.reduce((max, c) => (SEVERITY_RANK[c.severity] > SEVERITY_RANK[max] ? c.severity : max), checks[0]!.severity);
  const policyId = single(kept.map((f) => f.policy.id));
  const container = single(kept.map((f) => f.container));
  const image = container !== undefined ? single(kept.map((f) => f.image)) : undefined;
  // A signature check resolved the tag: its digest is the one that was verified (or failed).
  const digest = image ? (kept.find((f) => f.digest !== undefined)?.digest ?? tryParseImageReference(image)?.digest) : undefined;
  const event: AuditEventV1 = {
    id: options.newId(),
    time: options.now.toISOString(),
    kind: 'admission',
    verdict: blocked ? 'blocked' : 'alerted',
    mode: blocked ? 'enforce' : 'audit',
    ...(policyId !== undefined ? { policy: { ...kept[0]!.policy } } : {}),
    bundleRevision: decision.bundleRevision,
    checks,
    workload: {
      namespace,
      kind,
      name,
      ...(kind === 'Pod' ? { pod: name } : {}),
      ...(container !== undefined ? { container: clip(container, 253) } : {}),
      ...(image ? { image: clip(image, 4096) } : {}),
      ...(digest && digest.length <= 256 ? { digest } : {}),
    },
    severity,
    ...(omitted > 0 ? { omittedChecks: omitted } : {}),
    // Sections applied policies enable that this agent does not enforce: recorded, never silent.
    ...(decision.notEnforced ? { notEnforced: [...new Set(decision.notEnforced.flatMap((n) => n.sections))].sort() } : {}),
  };
  return [event];
}
