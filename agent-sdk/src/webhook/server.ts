import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { WebhookConfig } from '../config.ts';
import { AuditAggregator, AuditQueue } from '../engine/index.ts';
import type { SignatureStage } from '../signatures/stage.ts';
import { CertificateReloader, loadKeyPair, type KeyPair } from './certificates.ts';
import { WebhookMetrics } from './metrics.ts';
import { counters, route, type RouteContext, type ServedBundle, type WebhookCounters } from './routes.ts';
import { problem } from './validate.ts';
import { uuidv7 } from './uuid.ts';

export type { ServedBundle, WebhookCounters } from './routes.ts';

/** The paths served, as the API server and kubelet send them: taken as they are, not parsed as URLs (one per request). */
const PLAIN = new Set(['/validate', '/healthz', '/readyz', '/metrics']);

/** A request's path: a served path as sent (the API server adds `?timeout=10s`), anything else read as a URL. */
function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return PLAIN.has(path) ? path : new URL(url, 'https://agent').pathname;
}

export interface WebhookDeps {
  /** The active bundle, read on every request. */
  bundle: () => ServedBundle | null;
  /** The cluster name policy scopes match; the bundle's by default. */
  cluster?: string;
  now?: () => number;
  /** One structured log entry per notable event (listening, certificate reloads). */
  log?: (entry: Record<string, unknown>) => void;
  /** Verifies image signatures before each decision (`imageContentProtection`); without it such rules fail closed. */
  signatures?: SignatureStage;
  /** Told of every admission decision (`palisade-agent run` logs each). */
  onDecision?: RouteContext['onDecision'];
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
  readonly aggregator: AuditAggregator;
  readonly #flush: ReturnType<typeof setInterval>;
  private readonly server: Server;
  private readonly reloader: CertificateReloader;
  private readonly now: () => number;

  private constructor(readonly settings: WebhookConfig, private readonly deps: WebhookDeps, pair: KeyPair) {
    this.now = deps.now ?? Date.now;
    // Blocked decisions' events are never crowded out by audit-mode ones (issue 8).
    this.audit = new AuditQueue<AuditEventV1>({ capacity: settings.auditQueueCapacity, priority: (e) => e.verdict === 'blocked' });
    const windowMs = settings.auditAggregateSeconds * 1000;
    this.aggregator = new AuditAggregator({ windowMs, newId: () => uuidv7(this.now()) });
    this.#flush = setInterval(() => this.#queue(this.aggregator.due(this.now())), Math.max(100, Math.min(windowMs, 1000)));
    this.#flush.unref?.();
    const timeout = Math.max(settings.requestDeadlineMs * 2, 5_000);
    // Client certificates are asked for, not required at the handshake: kubelet probes (/healthz, /readyz) and metric
    // scrapers have none. `POST /validate` refuses an unauthenticated peer (see `clientAuthProblem`).
    const clientAuth = pair.ca !== undefined ? { requestCert: true, rejectUnauthorized: false } : {};
    this.server = createServer({ ...pair, ...clientAuth, minVersion: 'TLSv1.2', requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: 1_000 }, (req, res) => void this.handle(req, res));
    const log = deps.log ?? (() => undefined);
    this.reloader = new CertificateReloader(
      { certFile: settings.certFile, keyFile: settings.keyFile, ...(settings.clientCaFile ? { caFile: settings.clientCaFile } : {}), intervalMs: settings.certReloadSeconds * 1000 },
      pair,
      (next) => {
        this.server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
        log({ event: 'certificate_reloaded', certFile: settings.certFile });
      },
      (err) => log({ event: 'certificate_reload_failed', message: err.message }),
    );
  }

  /** Loads the certificate and client CA (an `AgentFileError` names a missing or unusable file) and prepares the server. */
  static async create(settings: WebhookConfig, deps: WebhookDeps): Promise<WebhookServer> {
    return new WebhookServer(settings, deps, await loadKeyPair(settings.certFile, settings.keyFile, settings.clientCaFile));
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
    clearInterval(this.#flush);
    this.#queue(this.aggregator.drain()); // the repeats counted so far are reported, not lost
    this.audit.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeIdleConnections();
    });
  }

  /** Counters for the agent's status document (flat, so the control plane keeps them). */
  counters(): WebhookCounters {
    return counters(this.metrics, this.audit);
  }

  #queue(events: AuditEventV1[]): void {
    for (const event of events) this.audit.push(event);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const path = pathOf(req.url);
    let status = 500;
    try {
      const { settings, audit, aggregator, metrics } = this;
      const context = { settings, audit, aggregator, metrics, bundle: this.deps.bundle(), now: new Date(this.now()), ...(this.deps.cluster ? { cluster: this.deps.cluster } : {}), ...(this.deps.signatures ? { signatures: this.deps.signatures } : {}), ...(this.deps.onDecision ? { onDecision: this.deps.onDecision } : {}) };
      status = await route(req, res, path, context);
    } catch (err) {
      if (!res.headersSent) status = problem(res, 500, 'Internal Server Error', (err as Error).message);
      else res.destroy();
    } finally {
      this.metrics.request(path, status, (performance.now() - started) / 1000);
    }
  }
}
