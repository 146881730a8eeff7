import { SEVERITY_RANK, type AuditEventV1, type Severity } from '../../../schema/audit-event.ts';
import { DROP_REASONS, type DropCounts, type DropReason } from './cursor.ts';

const DESCRIPTIONS: Record<DropReason, string> = {
  spoolFullAudit: 'audit-mode events refused: the spool was full',
  evictedAudit: 'spooled audit-mode events evicted to make room for blocked ones',
  spoolFullEnforce: 'blocked events refused: the spool was full of blocked events',
  tooLarge: 'events too large to ship',
  rejected: 'events the control plane refused as invalid',
  corrupt: 'spooled events found damaged on disk',
  writeFailed: 'events lost to failed disk writes',
};

/** Losing blocked events (or failing to write at all) is at least `high`. */
const ENFORCE: ReadonlySet<DropReason> = new Set(['spoolFullEnforce', 'writeFailed']);

/** Severity by volume: under 100 `low`, under 1 000 `medium`, under 10 000 `high`, more `critical`. */
export function dropSeverity(reason: DropReason, count: number): Severity {
  const byVolume: Severity = count >= 10_000 ? 'critical' : count >= 1000 ? 'high' : count >= 100 ? 'medium' : 'low';
  return ENFORCE.has(reason) && SEVERITY_RANK[byVolume] < SEVERITY_RANK.high ? 'high' : byVolume;
}

/** The drops since the last report: `now - reported`, reason by reason (never negative). */
export function dropDelta(now: DropCounts, reported: DropCounts): Partial<DropCounts> {
  const delta: Partial<DropCounts> = {};
  for (const r of DROP_REASONS) if (now[r] > reported[r]) delta[r] = now[r] - reported[r];
  return delta;
}

/**
 * An `agent` event reporting lost audit events: one check per reason (`agent.auditDropped.<reason>`) saying how many
 * since the last report, severity by volume; null when nothing was dropped.
 */
export function dropReportEvent(delta: Partial<DropCounts>, o: { id: string; now: Date; bundleRevision: number }): AuditEventV1 | null {
  const checks = DROP_REASONS.filter((r) => (delta[r] ?? 0) > 0).map((r) => ({
    id: `agent.auditDropped.${r}`,
    message: `${delta[r]} ${DESCRIPTIONS[r]} (since the last report)`,
    severity: dropSeverity(r, delta[r]!),
  }));
  if (checks.length === 0) return null;
  const severity = checks.reduce<Severity>((max, c) => (SEVERITY_RANK[c.severity] > SEVERITY_RANK[max] ? c.severity : max), 'low');
  return { id: o.id, time: o.now.toISOString(), kind: 'agent', verdict: 'alerted', bundleRevision: o.bundleRevision, checks, severity };
}
