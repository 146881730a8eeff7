import type { AuditEventV1, AuditFile, Severity } from '../../../schema/audit-event.ts';
import type { Verdict } from '../scanner/types.ts';
import type { ActionOutcome } from './actions.ts';
import type { FileThreatBinding } from './coverage.ts';

/** A covered container on this node, as events and actions name it. */
export interface ContainerTarget {
  id: string;
  namespace: string;
  pod: string;
  container: string;
  image: string;
  /** Host path of the container's `/`. */
  root: string;
  bindings: FileThreatBinding[];
}

export interface FileThreatOutcome {
  target: ContainerTarget;
  path: string;
  verdict: Exclude<Verdict, { verdict: 'clean' }>;
  trigger: AuditFile['trigger'];
  digest?: string;
  size?: number;
  /** Whether the settings and the policies allowed acting (enforce and enforce). */
  enforce: boolean;
  actions: ActionOutcome[];
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/**
 * The audit event (kind `fileThreat`) of one file: a detection (`infected`), or a file that was not fully scanned
 * (`limitExceeded`, `encrypted`, `error`: never silent, never `clean`). One check per covering policy. A detection is
 * `blocked` when an action took the file away, otherwise `alerted`; the others are `alerted` at `low` severity.
 *
 * @example
 * ```ts
 * const event = fileThreatEvent(outcome, { revision: 7, now: new Date(), newId: uuidv7 });
 * event.file; // { path: '/tmp/x.zip', verdict: 'infected', signature: 'Eicar-Test-Signature', actions: [...] }
 * ```
 */
export function fileThreatEvent(o: FileThreatOutcome, at: { revision: number; now: Date; newId: () => string }): AuditEventV1 {
  // Paths as the container sees them: an error message may name the host path (`/proc/<pid>/root/...`).
  const v = o.verdict.verdict === 'error' ? { ...o.verdict, message: o.verdict.message.split(o.target.root).join('') } : o.verdict;
  const infected = v.verdict === 'infected';
  const stopped = o.actions.some((a) => a.ok);
  const severity: Severity = infected ? 'critical' : 'low';
  const member = v.path.length > 1 ? v.path.slice(1).map((p) => clip(p, 4096)) : undefined;
  const where = member ? `${o.path} > ${member.join(' > ')}` : o.path;
  const what = infected
    ? `${v.name} found in ${where}`
    : v.verdict === 'limitExceeded'
      ? `${where} not fully scanned: limit ${v.kind}`
      : v.verdict === 'encrypted'
        ? `${where} not fully scanned: encrypted`
        : `${where} not fully scanned: ${v.message}`;
  const done = !infected ? 'no action (not a detection)' : !o.enforce ? 'reported only (audit mode)' : o.actions.map((a) => `${a.action}: ${a.ok ? a.detail : `failed (${a.detail})`}`).join('; ');
  const t = o.target;
  const file: AuditFile = {
    path: clip(o.path, 4096),
    ...(member ? { member: [clip(o.path, 4096), ...member].slice(0, 32) } : {}),
    verdict: v.verdict,
    ...(infected ? { signature: clip(v.name, 512) } : {}),
    ...(v.verdict === 'limitExceeded' ? { reason: v.kind } : v.verdict === 'error' ? { reason: clip(v.message, 1024) } : {}),
    ...(o.digest ? { digest: o.digest } : {}),
    ...(o.size !== undefined ? { size: o.size } : {}),
    trigger: o.trigger,
    actions: o.actions.map((a) => ({ ...a, detail: clip(a.detail, 1024) })),
  };
  const checkId = infected ? 'fileThreatProtection' : `fileThreatProtection.${v.verdict}`;
  return {
    id: at.newId(),
    time: at.now.toISOString(),
    kind: 'fileThreat',
    verdict: infected && o.enforce && stopped ? 'blocked' : 'alerted',
    mode: o.enforce ? 'enforce' : 'audit',
    ...(t.bindings.length === 1 ? { policy: { ...t.bindings[0]!.policy } } : {}),
    bundleRevision: at.revision,
    checks: t.bindings.slice(0, 256).map((b) => ({
      id: checkId,
      message: clip(`${what}; ${done} [container ${t.container} of pod ${t.namespace}/${t.pod}]`, 4096),
      severity,
      policy: { ...b.policy },
      mode: b.mode,
      container: clip(t.container, 253),
    })),
    workload: { namespace: clip(t.namespace, 253), kind: 'Pod', name: clip(t.pod, 253), pod: clip(t.pod, 253), container: clip(t.container, 253), ...(t.image ? { image: clip(t.image, 4096) } : {}) },
    severity,
    file,
  };
}
