import type { AdmitOutcome } from '../webhook/admission.ts';
import type { AdmissionRequest } from '../webhook/review.ts';

export type LogEntry = Record<string, unknown>;

/** Events that mean something went wrong but the agent carries on; everything else is `info`. */
const WARNINGS = new Set([
  'rejected', 'failed', 'status_report_failed', 'audit_upload_failed', 'audit_events_refused', 'audit_spool_failed', 'certificate_reload_failed',
]);

/**
 * One JSON line on stdout per event of `palisade-agent run`, with `time` and `level` (`info` or `warn`). Entries never
 * carry the credential, tokens or object contents: only names, counts, revisions and messages.
 */
export function log(entry: LogEntry): void {
  const level = WARNINGS.has(String(entry.event)) ? 'warn' : 'info';
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), level, ...entry }) + '\n');
}

/**
 * The log entry of one admission decision: who asked about what, the answer and why, and the policies that denied
 * it. The object itself (which may hold environment values) is not logged.
 */
export function decisionEntry(request: AdmissionRequest, outcome: AdmitOutcome): LogEntry {
  const decision = outcome.decision;
  const workload = decision?.workload;
  const denying = decision ? [...new Set(decision.findings.filter((f) => f.mode === 'enforce').map((f) => f.policy.name))] : [];
  return {
    event: 'admission',
    uid: request.uid,
    operation: request.operation,
    kind: workload?.kind ?? request.kind?.kind,
    namespace: workload?.namespace ?? request.namespace,
    name: workload?.name ?? request.name,
    allowed: outcome.response.allowed,
    reason: outcome.reason,
    ...(request.dryRun ? { dryRun: true } : {}),
    ...(decision ? { bundleRevision: decision.bundleRevision, findings: decision.findings.length } : {}),
    ...(denying.length > 0 ? { deniedBy: denying } : {}),
  };
}
