import type { DropReason } from '../engine/index.ts';
import type { AdmitReason } from './admission.ts';

/** Latency buckets in seconds: admission decisions take well under a millisecond; the deadline is seconds. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the gauges show, read when `/metrics` is scraped. */
export interface GaugeSnapshot {
  bundle: { revision: number; issuedAt: Date; expiresAt: Date } | null;
  /** Whether the bundle may be enforced (present, not expired past the grace period). */
  bundleValid: boolean;
  now: Date;
  audit: { size: number; capacity: number; dropped: Readonly<Record<DropReason, number>> };
}

type Verdict = 'allowed' | 'denied';
const PATHS = ['/validate', '/healthz', '/readyz', '/metrics'];
const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (l: Record<string, string>) => `{${Object.entries(l).map(([k, v]) => `${k}="${escape(v)}"`).join(',')}}`;

/**
 * The webhook's counters and latency histogram, rendered in the Prometheus text format (version 0.0.4) together with
 * gauges read at scrape time. Plain objects: no dependency, nothing global.
 *
 * @example
 * ```ts
 * const metrics = new WebhookMetrics();
 * metrics.request('/validate', 200, 0.0004);
 * res.end(metrics.render(snapshot()));
 * ```
 */
export class WebhookMetrics {
  readonly requests = new Map<string, number>();
  readonly decisions = new Map<string, number>();
  readonly buckets = LATENCY_BUCKETS.map(() => 0);
  latencyCount = 0;
  latencySum = 0;
  auditEvents = 0;

  /** One HTTP request; `seconds` is observed in the histogram for `/validate` only. */
  request(path: string, code: number, seconds: number): void {
    const key = `${PATHS.includes(path) ? path : 'other'} ${code}`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    if (path !== '/validate') return;
    this.latencyCount++;
    this.latencySum += seconds;
    LATENCY_BUCKETS.forEach((le, i) => seconds <= le && this.buckets[i]!++);
  }

  decision(verdict: Verdict, reason: AdmitReason, dryRun: boolean): void {
    const key = `${verdict} ${reason} ${dryRun}`;
    this.decisions.set(key, (this.decisions.get(key) ?? 0) + 1);
  }

  /** Decisions so far by verdict, for the agent's status document. */
  totals(): Record<Verdict, number> {
    const out = { allowed: 0, denied: 0 };
    for (const [key, n] of this.decisions) out[key.split(' ')[0] as Verdict] += n;
    return out;
  }

  render(g: GaugeSnapshot): string {
    const out: string[] = [];
    const family = (name: string, type: string, help: string, samples: Array<[string, number]>) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([suffix, v]) => `${name}${suffix} ${Number.isFinite(v) ? v : 0}`));
    family('palisade_webhook_requests_total', 'counter', 'HTTP requests served, by path and status code.',
      [...this.requests].map(([k, n]) => { const [path, code] = k.split(' '); return [labels({ path: path!, code: code! }), n]; }));
    family('palisade_admission_decisions_total', 'counter', 'Admission decisions by verdict, reason (policy, operation, deleting, notWorkload, noBundle) and dry run.',
      [...this.decisions].map(([k, n]) => { const [verdict, reason, dryRun] = k.split(' '); return [labels({ verdict: verdict!, reason: reason!, dry_run: dryRun! }), n]; }));
    const cumulative = LATENCY_BUCKETS.map((le, i) => [labels({ le: String(le) }), this.buckets[i]!] as [string, number]);
    family('palisade_admission_duration_seconds', 'histogram', 'Time from request to response of POST /validate.',
      [...cumulative.map(([l, n]) => [`_bucket${l}`, n] as [string, number]), ['_bucket{le="+Inf"}', this.latencyCount], ['_sum', this.latencySum], ['_count', this.latencyCount]]);
    const b = g.bundle;
    family('palisade_bundle_revision', 'gauge', 'Revision of the active policy bundle; 0 without one.', [['', b?.revision ?? 0]]);
    family('palisade_bundle_age_seconds', 'gauge', 'Seconds since the active bundle was issued; -1 without one.', [['', b ? (g.now.getTime() - b.issuedAt.getTime()) / 1000 : -1]]);
    family('palisade_bundle_expires_in_seconds', 'gauge', 'Seconds until the active bundle expires (negative once expired); -1 without one.', [['', b ? (b.expiresAt.getTime() - g.now.getTime()) / 1000 : -1]]);
    family('palisade_bundle_valid', 'gauge', '1 while a bundle may be enforced (present, not expired past the grace period).', [['', g.bundleValid ? 1 : 0]]);
    family('palisade_audit_events_total', 'counter', 'Audit events produced by admission decisions.', [['', this.auditEvents]]);
    family('palisade_audit_queue_size', 'gauge', 'Audit events waiting to be shipped.', [['', g.audit.size]]);
    family('palisade_audit_queue_capacity', 'gauge', 'Most audit events held.', [['', g.audit.capacity]]);
    family('palisade_audit_events_dropped_total', 'counter', 'Audit events dropped by the queue, by reason (overflow, closed, tooLarge).',
      Object.entries(g.audit.dropped).map(([reason, n]) => [labels({ reason }), n]));
    return out.join('\n') + '\n';
  }
}
