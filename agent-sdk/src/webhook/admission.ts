import type { BundleContentV1 } from '../../../schema/bundle.ts';
import { compiledBundle } from '../engine/compiled/index.ts';
import { extractWorkload, type AdmissionInput, type Decision, type SignatureFacts } from '../engine/index.ts';
import { auditWarnings, denialMessage, limitWarnings, notEnforcedLines } from './messages.ts';
import { EVALUATED_OPERATIONS, type AdmissionRequest, type AdmissionResponse } from './review.ts';

/** The bundle the webhook enforces, as the bundle client hands it over. */
export interface ActiveBundle {
  content: BundleContentV1;
  revision: number;
  expiresAt: Date;
}

export interface AdmitOptions {
  /** The active bundle, or null before the first one. */
  bundle: ActiveBundle | null;
  now: Date;
  /** Without a valid bundle: deny (`closed`) or allow with a warning (`open`). */
  failurePolicy: 'closed' | 'open';
  /** An expired bundle is still enforced this long after `expiresAt`. */
  graceMs: number;
  /** The cluster name scopes match; the bundle's by default. */
  cluster?: string;
  /** Facts of the signature I/O stage, run before (see `signatures/stage.ts`). */
  signatures?: SignatureFacts;
  /** Requesters whose `ownerReferences` exclusions trust (`DEFAULT_TRUSTED_CONTROLLERS` when absent). */
  trustedControllers?: readonly string[];
}

/** Why the webhook answered as it did; a label of the decisions metric. */
export type AdmitReason = 'policy' | 'operation' | 'deleting' | 'notWorkload' | 'noBundle';

export interface AdmitOutcome {
  response: AdmissionResponse;
  reason: AdmitReason;
  /** The engine's decision and its input, when the request was evaluated (for audit events). */
  decision?: Decision;
  input?: AdmissionInput;
}

/** The engine input of a request `admit` would evaluate (the signature stage needs it first); else `undefined`. */
export function admissionInput(request: AdmissionRequest, options: AdmitOptions): AdmissionInput | undefined {
  if (!EVALUATED_OPERATIONS.includes(request.operation) || (request.operation === 'UPDATE' && deleting(request.object))) return undefined;
  if (options.bundle === null || bundleProblem(options.bundle, options.now, options.graceMs) !== null || !extractWorkload(request.object)) return undefined;
  return { object: request.object, ...(request.namespace ? { namespace: request.namespace } : {}), ...(options.cluster ? { cluster: options.cluster } : {}) };
}

/** Whether a bundle may be enforced now: `null` when it may, else why not (for messages and readiness). */
export function bundleProblem(bundle: ActiveBundle | null, now: Date, graceMs: number): string | null {
  if (bundle === null) return 'no policy bundle has been received yet';
  if (now.getTime() >= bundle.expiresAt.getTime() + graceMs)
    return `the policy bundle (revision ${bundle.revision}) expired at ${bundle.expiresAt.toISOString()}, past the grace period`;
  return null;
}

const deleting = (object: unknown) => typeof (object as { metadata?: { deletionTimestamp?: unknown } } | undefined)?.metadata?.deletionTimestamp === 'string';

/**
 * Decides one AdmissionReview request. Pure: the clock comes in `options.now`.
 *
 * CREATE and UPDATE (dry runs too) are evaluated; other operations, objects that are no workload, and updates of an
 * object being deleted (finalizers must be removable) are allowed. Without a valid bundle a workload is denied with
 * code 503 (`closed`) or allowed with a warning (`open`). A denial has code 403 and a message listing each violated
 * check per container; Audit-mode findings become warnings.
 *
 * @example
 * ```ts
 * const { response } = admit(parseAdmissionReview(body), { bundle, now: new Date(), failurePolicy: 'closed', graceMs: 3_600_000 });
 * ```
 */
export function admit(request: AdmissionRequest, options: AdmitOptions): AdmitOutcome {
  const allow = (reason: AdmitReason, warnings: string[] = []): AdmitOutcome => ({ response: { uid: request.uid, allowed: true, ...(warnings.length ? { warnings } : {}) }, reason });
  if (!EVALUATED_OPERATIONS.includes(request.operation)) return allow('operation');
  if (request.operation === 'UPDATE' && deleting(request.object)) return allow('deleting');
  const workload = extractWorkload(request.object);
  if (!workload) return allow('notWorkload');
  const problem = bundleProblem(options.bundle, options.now, options.graceMs);
  if (problem !== null || options.bundle === null) {
    const text = `Palisade cannot check ${workload.kind} "${workload.name}": ${problem}`;
    if (options.failurePolicy === 'open') return allow('noBundle', limitWarnings([`${text}; admitted without policy checks (fail-open)`]));
    return { response: { uid: request.uid, allowed: false, status: { code: 503, reason: 'ServiceUnavailable', message: `${text}; denied (fail-closed)` } }, reason: 'noBundle' };
  }
  const input: AdmissionInput = {
    object: request.object,
    ...(request.namespace ? { namespace: request.namespace } : {}),
    ...(options.cluster ? { cluster: options.cluster } : {}),
    ...(options.signatures ? { signatures: options.signatures } : {}),
    ...(typeof request.userInfo?.username === 'string' ? { requester: request.userInfo.username } : {}),
  };
  const trust = options.trustedControllers ? { trustedControllers: options.trustedControllers } : {};
  // The bundle revision compiled once (cached per content object), deciding as the reference `evaluate` does.
  const decision = compiledBundle(options.bundle.content).evaluate(input, { now: options.now, bundleRevision: options.bundle.revision, ...trust });
  if (decision.malformed)
    // Only a client that skips the API server's validation sends this: deny (fail closed), saying which fields.
    return { response: { uid: request.uid, allowed: false, status: { code: 400, reason: 'BadRequest', message: `Palisade denied ${decision.message}` } }, reason: 'policy', decision, input };
  const warnings = auditWarnings(decision, notEnforcedLines(decision));
  const response: AdmissionResponse = {
    uid: request.uid,
    allowed: decision.allowed,
    ...(decision.allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: denialMessage(decision) } }),
    ...(warnings.length ? { warnings } : {}),
  };
  return { response, reason: 'policy', decision, input };
}
