import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { WebhookConfig } from '../config.ts';
import type { AuditAggregator, AuditQueue } from '../engine/index.ts';
import { bundleProblem, type ActiveBundle, type AdmitOptions } from './admission.ts';
import type { SignatureStage } from '../signatures/stage.ts';
import { clientAuthProblem } from './client-auth.ts';
import type { WebhookMetrics } from './metrics.ts';
import { handleValidate, problem, send, type ValidateContext } from './validate.ts';

/** The bundle in force, as the webhook needs it (a `VerifiedBundle` is one). */
export interface ServedBundle extends ActiveBundle {
  issuedAt: Date;
}

/** Decisions and audit-queue counts, merged into the status document's `counters`. */
export interface WebhookCounters {
  admissionAllowed: number;
  admissionDenied: number;
  auditEvents: number;
  auditQueued: number;
  auditDroppedOverflow: number;
  /** Blocked decisions' events lost because the queue was full of blocked ones (audit-mode ones always go first). */
  auditDroppedOverflowEnforce: number;
  auditDroppedClosed: number;
  auditDroppedTooLarge: number;
}

/** What one request is answered from: the settings, and the bundle and clock read when it arrived. */
export interface RouteContext {
  settings: WebhookConfig;
  bundle: ServedBundle | null;
  now: Date;
  cluster?: string;
  audit: AuditQueue<AuditEventV1>;
  aggregator: AuditAggregator;
  metrics: WebhookMetrics;
  signatures?: SignatureStage;
  onDecision?: ValidateContext['onDecision'];
}

export function counters(metrics: WebhookMetrics, audit: AuditQueue<AuditEventV1>): WebhookCounters {
  const { allowed, denied } = metrics.totals();
  const dropped = audit.dropped();
  return {
    admissionAllowed: allowed, admissionDenied: denied, auditEvents: metrics.auditEvents, auditQueued: audit.size,
    auditDroppedOverflow: dropped.overflow, auditDroppedOverflowEnforce: dropped.overflowEnforce, auditDroppedClosed: dropped.closed, auditDroppedTooLarge: dropped.tooLarge,
  };
}

const ROUTES: Record<string, string> = { '/validate': 'POST', '/healthz': 'GET', '/readyz': 'GET', '/metrics': 'GET' };

/** Answers one request; returns the HTTP status sent. */
export function route(req: IncomingMessage, res: ServerResponse, path: string, c: RouteContext): Promise<number> | number {
  const method = req.method ?? 'GET';
  const allowed = ROUTES[path];
  if (allowed === undefined) return problem(res, 404, 'Not Found', `no route ${path}`);
  if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
    res.setHeader('allow', allowed);
    return problem(res, 405, 'Method Not Allowed', `${path} takes ${allowed}`, true);
  }
  if (path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
  const { failurePolicy, expiryGraceSeconds, auditQueueCapacity } = c.settings;
  const options: AdmitOptions = {
    bundle: c.bundle, now: c.now, failurePolicy, graceMs: expiryGraceSeconds * 1000,
    ...(c.cluster ? { cluster: c.cluster } : {}),
    ...(c.settings.trustedControllers ? { trustedControllers: c.settings.trustedControllers } : {}),
  };
  const unready = bundleProblem(c.bundle, c.now, options.graceMs);
  if (path === '/readyz') return unready ? send(res, 503, `not ready: ${unready}\n`, 'text/plain') : send(res, 200, `ready: bundle revision ${c.bundle!.revision}\n`, 'text/plain');
  if (path === '/metrics') {
    const audit = { size: c.audit.size, capacity: auditQueueCapacity, dropped: c.audit.dropped() };
    return send(res, 200, c.metrics.render({ bundle: c.bundle, bundleValid: unready === null, now: c.now, audit }), 'text/plain; version=0.0.4; charset=utf-8');
  }
  const refused = clientAuthProblem(req, c.settings);
  if (refused) return problem(res, refused.status, refused.status === 401 ? 'Unauthorized' : 'Forbidden', refused.detail, true);
  return handleValidate(req, res, { ...c.settings, admitOptions: () => options, audit: c.audit, aggregator: c.aggregator, metrics: c.metrics, ...(c.signatures ? { signatures: c.signatures } : {}), ...(c.onDecision ? { onDecision: c.onDecision } : {}) });
}
