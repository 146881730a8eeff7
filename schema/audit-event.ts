import { z } from 'zod';
import { Timestamp } from './common.ts';
import { PolicyMode } from './runtime-policies.ts';

/**
 * Audit event format v1: what an agent reports about one decision it made. The agent makes the id (a UUIDv7, so ids
 * sort by time); tenant and cluster are not in the event, the control plane takes them from the agent's credential.
 *
 * Grain (agents from 0.2 on): one event per decision, carrying every finding as a check attributed to its policy,
 * mode and container, and repeated identical decisions about one workload within a window aggregated into one event
 * with `count`, `firstSeen` and `lastSeen`. Agents before that sent one event per policy and container, with the
 * policy at the top and checks without attribution. Both are v1: every member added is optional and changes nothing
 * for events without it, so the control plane stores, queries and rolls up old and new events side by side (a check
 * without `policy`/`mode`/`container` belongs to the event's own). Tenants' consumers that read `policy` at the top
 * must also read the checks': a decision breaking several policies has no single top-level `policy`.
 */
export const AUDIT_EVENT_KINDS = ['admission', 'process', 'network', 'fileThreat', 'agent'] as const;
export const AuditEventKind = z.enum(AUDIT_EVENT_KINDS);
export type AuditEventKind = z.infer<typeof AuditEventKind>;

/** `blocked`: an Enforce-mode policy stopped it; `alerted`: an Audit-mode policy reported it; `allowed`: recorded only. */
export const AuditVerdict = z.enum(['blocked', 'allowed', 'alerted']);
export type AuditVerdict = z.infer<typeof AuditVerdict>;

export const Severity = z.enum(['low', 'medium', 'high', 'critical']);
export type Severity = z.infer<typeof Severity>;
export const SEVERITY_RANK: Record<Severity, number> = { low: 0, medium: 1, high: 2, critical: 3 };

export const AuditPolicyRef = z.object({ id: z.uuid(), name: z.string(), revision: z.int().min(1) });

export const AuditCheck = z.object({
  /** Check id: `registriesAllowed`, `limitContainerPrivileges.privileged`, `bestPracticeCheck.imageTagNotLatest`, ... */
  id: z.string().min(1).max(256),
  message: z.string().max(4096),
  severity: Severity,
  /** The policy the finding belongs to; absent: the event's `policy`. */
  policy: AuditPolicyRef.optional(),
  /** That policy's mode; absent: the event's `mode`. */
  mode: PolicyMode.optional(),
  /** The container the finding is about; absent: a pod-level finding, or the event's `workload.container`. */
  container: z.string().max(253).optional(),
  /** The container's image as the workload names it; absent: the event's `workload.image`. */
  image: z.string().max(4096).optional(),
});
export type AuditCheck = z.infer<typeof AuditCheck>;

export const AuditWorkload = z.object({
  namespace: z.string().max(253),
  /** `Pod`, `Deployment`, `CronJob`, ... */
  kind: z.string().max(64),
  name: z.string().max(253),
  /** The pod's name, when the event is about a pod rather than a workload template. */
  pod: z.string().max(253).optional(),
  container: z.string().max(253).optional(),
  /** The image as the workload names it. */
  image: z.string().max(4096).optional(),
  /** `sha256:…` when the reference pins one (or, for runtime events, the runtime reports one). */
  digest: z.string().max(256).optional(),
});
export type AuditWorkload = z.infer<typeof AuditWorkload>;

/** What a `fileThreat` event is about: one file in one container, its verdict, and what was done to it. */
export const AuditFile = z.object({
  /** The path as the container sees it. */
  path: z.string().min(1).max(4096),
  /** Inside archives and mail: each member down to the one that decided (the file itself first). */
  member: z.array(z.string().max(4096)).max(32).optional(),
  /** `infected`: a detection; the others say the file was not fully scanned (never `clean`). */
  verdict: z.enum(['infected', 'limitExceeded', 'encrypted', 'error']),
  /** The signature's name, for `infected`. */
  signature: z.string().max(512).optional(),
  /** Which limit, for `limitExceeded` (`objectSize`, `scanTime`, `archiveScanningOff`, ...); the error, for `error`. */
  reason: z.string().max(1024).optional(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/).optional(),
  size: z.int().min(0).optional(),
  /** What started the scan: a change notification, the periodic full scan, or a request. */
  trigger: z.enum(['change', 'fullScan', 'onDemand']),
  /** Actions taken in order (the second only when the first failed); empty in audit mode and for non-detections. */
  actions: z.array(z.object({ action: z.enum(['disinfect', 'remove', 'blockAccess']), ok: z.boolean(), detail: z.string().max(1024) })).max(2),
});
export type AuditFile = z.infer<typeof AuditFile>;

export const AuditEventV1 = z
  .object({
    id: z.uuid({ version: 'v7' }),
    time: Timestamp,
    kind: AuditEventKind,
    verdict: AuditVerdict,
    /** The mode of the policy that produced it; absent for `agent` events. */
    mode: PolicyMode.optional(),
    policy: AuditPolicyRef.optional(),
    bundleRevision: z.int().min(0),
    checks: z.array(AuditCheck).max(256),
    workload: AuditWorkload.optional(),
    /** The highest severity among `checks`. */
    severity: Severity,
    /**
     * Identical decisions this event stands for (same workload, same findings): an agent reports the first one of a
     * window at once and the repeats within it as one event with their count. Absent: 1.
     */
    count: z.int().min(1).max(1_000_000_000).optional(),
    /** With `count`: when the first and the last of the repeats were decided (`time` is `lastSeen`). */
    firstSeen: Timestamp.optional(),
    lastSeen: Timestamp.optional(),
    /** Findings of the decision left out because an event carries at most 256 checks (enforce-mode and severe ones kept). */
    omittedChecks: z.int().min(1).optional(),
    /** Sections the applied policies enable that the reporting agent does not enforce (see schema/enforcement.ts). */
    notEnforced: z.array(z.string().min(1).max(64)).max(32).optional(),
    /** `fileThreat` events: the file, its verdict and the actions taken. */
    file: AuditFile.optional(),
  })
  .meta({ id: 'AuditEventV1' });
export type AuditEventV1 = z.infer<typeof AuditEventV1>;
