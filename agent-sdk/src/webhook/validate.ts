import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import { auditEvents, type AuditAggregator, type AuditQueue } from '../engine/index.ts';
import type { SignatureStage } from '../signatures/stage.ts';
import { admissionInput, admit, type AdmitOptions, type AdmitOutcome } from './admission.ts';
import { HttpError, mediaType, readBody } from './body.ts';
import type { WebhookMetrics } from './metrics.ts';
import { MalformedReviewError, parseAdmissionReview, reviewResponse, type AdmissionRequest } from './review.ts';
import { uuidv7 } from './uuid.ts';

export interface ValidateContext {
  maxRequestBytes: number;
  requestDeadlineMs: number;
  /** The decision's settings, read per request (the bundle changes under the server). */
  admitOptions: () => AdmitOptions;
  audit: AuditQueue<AuditEventV1>;
  /** Folds repeated identical denials into one event per window before they are queued. */
  aggregator: AuditAggregator;
  metrics: WebhookMetrics;
  /** Signature verification before the decision, within what is left of the request deadline. */
  signatures?: SignatureStage;
  /** Told of every decision (e.g. to log it); must not throw. */
  onDecision?: (request: AdmissionRequest, outcome: AdmitOutcome) => void;
}

/** Writes a JSON body; `Connection: close` when the request body may be left unread. */
export function send(res: ServerResponse, status: number, body: unknown, type = 'application/json', close = false): number {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text), ...(close ? { connection: 'close' } : {}) });
  res.end(text);
  return status;
}

/** An RFC 9457 problem, like the control plane's errors. */
export const problem = (res: ServerResponse, status: number, title: string, detail: string, close = false) =>
  send(res, status, { type: 'about:blank', title, status, detail }, 'application/problem+json', close);

const TITLES: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 413: 'Content Too Large', 415: 'Unsupported Media Type' };

/**
 * Resolves in the event loop's check phase, once the TLS socket's read callback that delivered the body's last chunk
 * has returned. Kept by measurement (bench/webhook.bench.ts, compliant pod, runs alternated): answering from inside
 * that callback cost about 60 µs more server CPU per request (174-194 against 112-121 µs) and a third of the
 * throughput. The JavaScript profile of the handler is the same either way, so the difference lies in Node's TLS and
 * socket layers; no finer cause was found.
 */
const afterIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * `POST /validate`: reads an AdmissionReview within the deadline and the size limit, decides, queues the audit events
 * of a real (not dry-run) evaluation, and answers with the review. Returns the HTTP status sent.
 */
export async function handleValidate(req: IncomingMessage, res: ServerResponse, ctx: ValidateContext): Promise<number> {
  const type = mediaType(req);
  const started = performance.now();
  if (type !== 'application/json') return problem(res, 415, TITLES[415]!, `Content-Type is "${type || '(none)'}"; send application/json`, true);
  let body: Buffer;
  try {
    body = await readBody(req, ctx.maxRequestBytes, ctx.requestDeadlineMs);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return problem(res, err.status, TITLES[err.status] ?? 'Error', err.message, true);
  }
  await afterIo();
  let request;
  try {
    request = parseAdmissionReview(JSON.parse(body.toString('utf8')));
  } catch (err) {
    const detail = err instanceof MalformedReviewError ? `not an AdmissionReview admission.k8s.io/v1 request: ${err.message}` : `the body is not JSON: ${(err as Error).message}`;
    return problem(res, 400, TITLES[400]!, detail);
  }
  let options = ctx.admitOptions();
  const input = ctx.signatures ? admissionInput(request, options) : undefined;
  if (ctx.signatures && input && options.bundle) {
    // What is left of the deadline, less a margin to decide and answer in.
    const facts = await ctx.signatures(options.bundle.content, input, ctx.requestDeadlineMs - (performance.now() - started) - 50);
    if (facts) options = { ...options, signatures: facts };
  }
  const outcome = admit(request, options);
  ctx.metrics.decision(outcome.response.allowed ? 'allowed' : 'denied', outcome.reason, request.dryRun === true);
  ctx.onDecision?.(request, outcome);
  if (outcome.decision && outcome.input && request.dryRun !== true) {
    const events = auditEvents(outcome.decision, outcome.input, { newId: () => uuidv7(options.now.getTime()), now: options.now });
    ctx.metrics.auditEvents += events.length;
    for (const event of ctx.aggregator.offer(events, options.now.getTime())) ctx.audit.push(event);
  }
  return send(res, 200, reviewResponse(outcome.response));
}
