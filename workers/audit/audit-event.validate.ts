import { z } from 'zod';
import { AuditCheck, AuditEventV1, AuditFile, AuditPolicyRef, AuditWorkload, SEVERITY_RANK, type Severity } from '../../schema/audit-event.ts';
import type { FieldError } from '../../schema/problem.ts';
import { fieldErrors, unstorableMembers } from '../http/body.ts';

/**
 * AuditEventV1 as ingest accepts it: unknown members are refused at every level rather than dropped, so a body that
 * names its own `tenantId` or `clusterId` (which only the credential may say) is a rejected event, not a silent one.
 */
export const IngestedAuditEvent = z.strictObject({
  ...AuditEventV1.shape,
  policy: z.strictObject(AuditPolicyRef.shape).optional(),
  checks: z.array(z.strictObject({ ...AuditCheck.shape, policy: z.strictObject(AuditPolicyRef.shape).optional() })).max(256),
  workload: z.strictObject(AuditWorkload.shape).optional(),
  file: z.strictObject({ ...AuditFile.shape, actions: z.array(z.strictObject(AuditFile.shape.actions.element.shape)).max(2) }).optional(),
}).meta({ id: 'AuditEventV1Input', description: 'AuditEventV1 as an agent sends it; unknown members are refused (tenant and cluster come from the credential)' });

/** One event the batch could not store, by its 0-based position in the batch (array element or non-blank line). */
export interface Rejection {
  index: number;
  reason: string;
  errors?: FieldError[];
}

export type Checked = { ok: true; event: AuditEventV1 } | { ok: false; rejection: Rejection };

/** Events before this are refused: no agent saw them, and Postgres would not store year 0. */
const EARLIEST = Date.parse('2000-01-01T00:00:00Z');

/**
 * Validates one event on its own: the schema, text Postgres can store, a severity that is the highest of the checks,
 * and a time not far ahead of the server clock. The event comes back normalized as stored.
 */
export function checkEvent(index: number, value: unknown, now: number, maxSkewMs: number): Checked {
  const unstorable = unstorableMembers(value);
  if (unstorable.length > 0) return { ok: false, rejection: { index, reason: 'the event holds text that cannot be stored', errors: unstorable } };
  const parsed = IngestedAuditEvent.safeParse(value);
  if (!parsed.success) return { ok: false, rejection: { index, reason: 'the event has invalid fields', errors: fieldErrors(parsed.error) } };
  const event = parsed.data;
  const errors: FieldError[] = [];
  const time = Date.parse(event.time);
  if (!(time >= EARLIEST)) errors.push({ pointer: '/time', detail: 'must not be before 2000-01-01' });
  else if (time > now + maxSkewMs) errors.push({ pointer: '/time', detail: `is more than ${Math.round(maxSkewMs / 60_000)} minutes ahead of the server clock` });
  const highest = highestSeverity(event.checks.map((c) => c.severity));
  if (highest && highest !== event.severity) errors.push({ pointer: '/severity', detail: `must be the highest severity among checks (${highest})` });
  if ((event.firstSeen === undefined) !== (event.lastSeen === undefined)) errors.push({ pointer: event.firstSeen === undefined ? '/firstSeen' : '/lastSeen', detail: 'firstSeen and lastSeen come together' });
  else if (event.firstSeen !== undefined && Date.parse(event.firstSeen) > Date.parse(event.lastSeen!)) errors.push({ pointer: '/firstSeen', detail: 'must not be after lastSeen' });
  if ((event.kind === 'fileThreat') !== (event.file !== undefined)) errors.push({ pointer: '/file', detail: event.file ? 'only fileThreat events name a file' : 'a fileThreat event names its file' });
  if (errors.length > 0) return { ok: false, rejection: { index, reason: 'the event has invalid fields', errors } };
  // Ids in lower case, as Postgres answers them; the time in UTC milliseconds, as the column keeps it.
  const normalized: AuditEventV1 = { ...event, id: event.id.toLowerCase(), time: new Date(time).toISOString() };
  if (event.policy) normalized.policy = { ...event.policy, id: event.policy.id.toLowerCase() };
  if (event.checks.some((c) => c.policy)) normalized.checks = event.checks.map((c) => (c.policy ? { ...c, policy: { ...c.policy, id: c.policy.id.toLowerCase() } } : c));
  return { ok: true, event: normalized };
}

function highestSeverity(severities: Severity[]): Severity | undefined {
  let best: Severity | undefined;
  for (const s of severities) if (best === undefined || SEVERITY_RANK[s] > SEVERITY_RANK[best]) best = s;
  return best;
}
