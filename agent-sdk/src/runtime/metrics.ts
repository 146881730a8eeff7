import { RUNTIME_DROP_REASONS, type RuntimeCounters } from './processor.ts';

export interface NodeGauges {
  bundleRevision: number;
  queued: number;
  capacity: number;
  pods: number;
  tetragonPolicies: number;
  syncErrors: number;
  syncs: number;
  fqdnFailures: number;
  detectOnly: boolean;
}

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * The node agent's `/metrics` in the Prometheus text format (0.0.4). `received` always equals `evaluated` plus the
 * sum of `dropped` over reasons.
 */
export function renderNodeMetrics(c: RuntimeCounters, g: NodeGauges): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: Array<[string, number]>) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([l, v]) => `${name}${l} ${v}`));
  family('palisade_runtime_events_received_total', 'counter', 'Sensor events taken in (dequeued, or refused by the full queue).', [['', c.received]]);
  family('palisade_runtime_events_evaluated_total', 'counter', 'Events decided against the runtime profiles.', [['', c.evaluated]]);
  family('palisade_runtime_events_dropped_total', 'counter', 'Events not evaluated, by reason.', RUNTIME_DROP_REASONS.map((r) => [`{reason="${escape(r)}"}`, c.dropped[r]]));
  family('palisade_runtime_decisions_total', 'counter', 'Decisions by verdict.', Object.entries(c.verdicts).map(([v, n]) => [`{verdict="${v}"}`, n]));
  family('palisade_runtime_kernel_blocked_total', 'counter', 'Blocked events refused in the kernel by a Tetragon policy.', [['', c.kernelBlocked]]);
  family('palisade_runtime_killed_total', 'counter', 'Processes killed from user space after the fact (result="ok"), or not (result="failed").', [['{result="ok"}', c.killed], ['{result="failed"}', c.killFailed]]);
  family('palisade_runtime_audit_events_total', 'counter', 'Audit events produced by runtime decisions.', [['', c.auditEvents]]);
  family('palisade_runtime_queue_size', 'gauge', 'Sensor events waiting for evaluation.', [['', g.queued]]);
  family('palisade_runtime_queue_capacity', 'gauge', 'Most sensor events held before evaluation.', [['', g.capacity]]);
  family('palisade_bundle_revision', 'gauge', 'Revision of the active policy bundle; 0 without one.', [['', g.bundleRevision]]);
  family('palisade_node_pods', 'gauge', 'Pods of this node known from the Kubernetes API.', [['', g.pods]]);
  family('palisade_tetragon_policies', 'gauge', 'TracingPolicyNamespaced objects this node agent keeps.', [['', g.tetragonPolicies]]);
  family('palisade_tetragon_syncs_total', 'counter', 'Reconciliations of the Tetragon policies, and failed ones.', [['{result="ok"}', g.syncs], ['{result="failed"}', g.syncErrors]]);
  family('palisade_fqdn_lookup_failures_total', 'counter', 'Failed lookups of FQDNs listed in profiles.', [['', g.fqdnFailures]]);
  family('palisade_runtime_detect_only', 'gauge', '1 when no kernel enforcement is configured (Falco only, or Tetragon policies off).', [['', g.detectOnly ? 1 : 0]]);
  return out.join('\n') + '\n';
}

/** Flat counters for the status document (`runtimeEventsReceived`, `runtimeEventsDroppedQueueFull`, ...). */
export function runtimeStatusCounters(c: RuntimeCounters, g: NodeGauges): Record<string, number> {
  const out: Record<string, number> = {
    runtimeEventsReceived: c.received, runtimeEventsEvaluated: c.evaluated,
    runtimeAllowed: c.verdicts.allowed, runtimeAlerted: c.verdicts.alerted, runtimeBlocked: c.verdicts.blocked,
    runtimeKernelBlocked: c.kernelBlocked, runtimeKilled: c.killed, runtimeKillFailed: c.killFailed, runtimeAuditEvents: c.auditEvents,
    runtimeQueued: g.queued, nodePods: g.pods, tetragonPolicies: g.tetragonPolicies, tetragonSyncErrors: g.syncErrors,
  };
  for (const r of RUNTIME_DROP_REASONS) out[`runtimeEventsDropped${r[0]!.toUpperCase()}${r.slice(1)}`] = c.dropped[r];
  return out;
}
