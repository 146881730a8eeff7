import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { WebhookConfig } from '../config.ts';
import { AuditQueue } from '../engine/index.ts';
import { bundleProblem, type ActiveBundle, type AdmitOptions } from './admission.ts';
import { CertificateReloader, loadKeyPair } from './certificates.ts';
import { WebhookMetrics } from './metrics.ts';
import { handleValidate, problem, send } from './validate.ts';

/** The bundle in force, as the webhook needs it (a `VerifiedBundle` is one). */
export interface ServedBundle extends ActiveBundle {
  issuedAt: Date;
}

export interface WebhookDeps {
  /** The active bundle, read on every request. */
  bundle: () => ServedBundle | null;
  /** The cluster name policy scopes match; the bundle's by default. */
  cluster?: string;
  now?: () => number;
  /** One structured log entry per notable event (listening, certificate reloads). */
  log?: (entry: Record<string, unknown>) => void;
}

/**
 * The admission webhook over HTTPS: `POST /validate` (AdmissionReview v1), `GET /healthz`, `GET /readyz` (200 only
 * while a bundle may be enforced) and `GET /metrics` (Prometheus text). The certificate is reloaded when its files
 * change. Audit events of the decisions go to a bounded queue (`audit`) that counts what it drops.
 *
 * @example
 * ```ts
 * const webhook = await WebhookServer.create(config.webhook, { bundle: () => client.active });
 * const { port } = await webhook.listen();
 * // ... on shutdown
 * await webhook.close();
 * ```
 */
export class WebhookServer {
  readonly metrics = new WebhookMetrics();
  readonly audit: AuditQueue<AuditEventV1>;
  private readonly server: Server;
  private readonly reloader: CertificateReloader;
  private readonly now: () => number;

  private constructor(private readonly settings: WebhookConfig, private readonly deps: WebhookDeps, pair: { cert: string; key: string }) {
    this.now = deps.now ?? Date.now;
    this.audit = new AuditQueue<AuditEventV1>({ capacity: settings.auditQueueCapacity });
    const timeout = Math.max(settings.requestDeadlineMs * 2, 5_000);
    this.server = createServer({ ...pair, minVersion: 'TLSv1.2', requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: 1_000 }, (req, res) => void this.handle(req, res));
    const log = deps.log ?? (() => undefined);
    this.reloader = new CertificateReloader(
      { certFile: settings.certFile, keyFile: settings.keyFile, intervalMs: settings.certReloadSeconds * 1000 },
      pair,
      (next) => {
        this.server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
        log({ event: 'certificate_reloaded', certFile: settings.certFile });
      },
      (err) => log({ event: 'certificate_reload_failed', message: err.message }),
    );
  }

  /** Loads the certificate (an `AgentFileError` names a missing or unusable file) and prepares the server. */
  static async create(settings: WebhookConfig, deps: WebhookDeps): Promise<WebhookServer> {
    return new WebhookServer(settings, deps, await loadKeyPair(settings.certFile, settings.keyFile));
  }

  async listen(): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => this.server.once('error', reject).listen(this.settings.port, this.settings.listen, () => resolve()));
    this.reloader.start();
    return this.server.address() as AddressInfo;
  }

  /** Checks the certificate files now instead of at the next interval; true when a new pair was taken. */
  reloadCertificate(): Promise<boolean> {
    return this.reloader.check();
  }

  async close(): Promise<void> {
    this.reloader.stop();
    this.audit.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  /** Counters for the agent's status document (flat, so the control plane keeps them). */
  counters(): Record<string, number> {
    const { allowed, denied } = this.metrics.totals();
    const dropped = this.audit.dropped();
    return {
      admissionAllowed: allowed, admissionDenied: denied, auditEvents: this.metrics.auditEvents, auditQueued: this.audit.size,
      auditDroppedOverflow: dropped.overflow, auditDroppedClosed: dropped.closed, auditDroppedTooLarge: dropped.tooLarge,
    };
  }

  private admitOptions(): AdmitOptions {
    const { failurePolicy, expiryGraceSeconds } = this.settings;
    return { bundle: this.deps.bundle(), now: new Date(this.now()), failurePolicy, graceMs: expiryGraceSeconds * 1000, ...(this.deps.cluster ? { cluster: this.deps.cluster } : {}) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = new URL(req.url ?? '/', 'https://agent').pathname;
    let status = 500;
    try {
      status = await this.route(req, res, path);
    } catch (err) {
      if (!res.headersSent) status = problem(res, 500, 'Internal Server Error', (err as Error).message);
      else res.destroy();
    } finally {
      this.metrics.request(path, status, (performance.now() - started) / 1000);
    }
  }

  private route(req: IncomingMessage, res: ServerResponse, path: string): Promise<number> | number {
    const method = req.method ?? 'GET';
    const routes: Record<string, string> = { '/validate': 'POST', '/healthz': 'GET', '/readyz': 'GET', '/metrics': 'GET' };
    const allowed = routes[path];
    if (allowed === undefined) return problem(res, 404, 'Not Found', `no route ${path}`);
    if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
      res.setHeader('allow', allowed);
      return problem(res, 405, 'Method Not Allowed', `${path} takes ${allowed}`, true);
    }
    if (path === '/healthz') return send(res, 200, 'ok\n', 'text/plain');
    const o = this.admitOptions();
    const unready = bundleProblem(o.bundle, o.now, o.graceMs);
    if (path === '/readyz') return unready ? send(res, 503, `not ready: ${unready}\n`, 'text/plain') : send(res, 200, `ready: bundle revision ${o.bundle!.revision}\n`, 'text/plain');
    if (path === '/metrics') {
      const audit = { size: this.audit.size, capacity: this.settings.auditQueueCapacity, dropped: this.audit.dropped() };
      return send(res, 200, this.metrics.render({ bundle: o.bundle as ServedBundle | null, bundleValid: unready === null, now: o.now, audit }), 'text/plain; version=0.0.4; charset=utf-8');
    }
    return handleValidate(req, res, { ...this.settings, admitOptions: () => o, audit: this.audit, metrics: this.metrics });
  }
}
