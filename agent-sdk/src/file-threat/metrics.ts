import type { Verdict } from '../scanner/types.ts';
import type { FileAction } from './actions.ts';

export interface FileThreatCounters {
  /** Files scanned, by verdict (a cache hit counts under its cached verdict and in `cacheHits`). */
  scanned: Record<Verdict['verdict'], number>;
  cacheHits: number;
  detections: number;
  actions: Record<FileAction, { ok: number; failed: number }>;
  /** Unreadable directories, failed watches, scan jobs that failed. */
  errors: number;
  /** Change notifications dropped because the scan queue was full (each marks its container for a full scan). */
  queueDropped: number;
  /** Files gone before their scan (deleted right after writing). */
  vanished: number;
  fullScans: number;
  auditEvents: number;
}

export interface FileThreatGauges {
  queued: number;
  containers: number;
  watches: number;
  /** Containers with directories past the watch limit (covered by full scans only). */
  watchLimited: number;
  signatures: number;
}

export const newFileThreatCounters = (): FileThreatCounters => ({
  scanned: { clean: 0, infected: 0, limitExceeded: 0, encrypted: 0, error: 0 },
  cacheHits: 0, detections: 0, errors: 0, queueDropped: 0, vanished: 0, fullScans: 0, auditEvents: 0,
  actions: { disinfect: { ok: 0, failed: 0 }, remove: { ok: 0, failed: 0 }, blockAccess: { ok: 0, failed: 0 } },
});

/** The File Threat Protection families of the node agent's `/metrics` (Prometheus text format 0.0.4). */
export function renderFileThreatMetrics(c: FileThreatCounters, g: FileThreatGauges): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, samples: Array<[string, number]>) =>
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([l, v]) => `${name}${l} ${v}`));
  family('palisade_file_threat_files_scanned_total', 'counter', 'Files scanned in covered containers, by verdict.', Object.entries(c.scanned).map(([v, n]) => [`{verdict="${v}"}`, n]));
  family('palisade_file_threat_cache_hits_total', 'counter', 'Files whose verdict came from the scan-only-new-and-modified cache.', [['', c.cacheHits]]);
  family('palisade_file_threat_detections_total', 'counter', 'Infected files found.', [['', c.detections]]);
  family('palisade_file_threat_actions_total', 'counter', 'Actions taken on infected files, by action and result.', Object.entries(c.actions).flatMap(([a, r]) => [[`{action="${a}",result="ok"}`, r.ok], [`{action="${a}",result="failed"}`, r.failed]] as Array<[string, number]>));
  family('palisade_file_threat_errors_total', 'counter', 'Unreadable directories, failed watches and failed scan jobs.', [['', c.errors]]);
  family('palisade_file_threat_queue_dropped_total', 'counter', 'Change notifications dropped by the full scan queue (a full scan follows).', [['', c.queueDropped]]);
  family('palisade_file_threat_vanished_total', 'counter', 'Files removed before their scan.', [['', c.vanished]]);
  family('palisade_file_threat_full_scans_total', 'counter', 'Full scans of a container.', [['', c.fullScans]]);
  family('palisade_file_threat_audit_events_total', 'counter', 'fileThreat audit events produced.', [['', c.auditEvents]]);
  family('palisade_file_threat_queue_size', 'gauge', 'Files waiting for a scan.', [['', g.queued]]);
  family('palisade_file_threat_containers', 'gauge', 'Containers covered on this node.', [['', g.containers]]);
  family('palisade_file_threat_watches', 'gauge', 'Directories watched with inotify.', [['', g.watches]]);
  family('palisade_file_threat_watch_limited_containers', 'gauge', 'Containers with directories past the watch limit.', [['', g.watchLimited]]);
  family('palisade_file_threat_signatures', 'gauge', 'Signatures in the active set (EICAR included).', [['', g.signatures]]);
  return out.join('\n') + '\n';
}

/** Flat counters for the status document (`fileThreatScanned`, `fileThreatDetections`, ...). */
export function fileThreatStatusCounters(c: FileThreatCounters, g: FileThreatGauges): Record<string, number> {
  const actions = Object.values(c.actions);
  return {
    fileThreatScanned: Object.values(c.scanned).reduce((a, b) => a + b, 0),
    fileThreatDetections: c.detections,
    fileThreatNotFullyScanned: c.scanned.limitExceeded + c.scanned.encrypted + c.scanned.error,
    fileThreatActions: actions.reduce((a, r) => a + r.ok, 0),
    fileThreatActionFailures: actions.reduce((a, r) => a + r.failed, 0),
    fileThreatErrors: c.errors,
    fileThreatQueueDropped: c.queueDropped,
    fileThreatCacheHits: c.cacheHits,
    fileThreatContainers: g.containers,
    fileThreatQueued: g.queued,
  };
}
