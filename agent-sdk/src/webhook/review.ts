/**
 * The AdmissionReview `admission.k8s.io/v1` documents the API server sends and expects back, and a strict reading of
 * a request. Pure: no I/O, no Node API.
 */
export const ADMISSION_API_VERSION = 'admission.k8s.io/v1';

/** The parts of `AdmissionReview.request` the agent reads (the API server sends more; it is ignored). */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  resource?: { group?: string; version?: string; resource?: string };
  subResource?: string;
  operation: string;
  namespace?: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  dryRun?: boolean;
  userInfo?: { username?: string; uid?: string; groups?: string[] };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  /** Consulted by the API server only when `allowed` is false; its message is what kubectl prints. */
  status?: { code: number; reason?: string; message: string };
  /** Shown by kubectl as `Warning: ...` lines, for allowed and denied requests alike. */
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** Only these are decided; DELETE and CONNECT are allowed untouched. */
export const EVALUATED_OPERATIONS: readonly string[] = ['CREATE', 'UPDATE'];

/** A body that is not an AdmissionReview v1 request; the server answers 400 with its message. */
export class MalformedReviewError extends Error {
  override readonly name = 'MalformedReviewError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when a document looks like an AdmissionReview (any version), so callers can tell it from a manifest. */
export const isAdmissionReview = (value: unknown): boolean => isRecord(value) && value.kind === 'AdmissionReview';

/**
 * Reads `AdmissionReview.request`, checking what the decision depends on: apiVersion, kind, a non-empty `uid`, an
 * `operation`, and an `object` for CREATE and UPDATE. Throws `MalformedReviewError` naming the first problem.
 *
 * @example
 * ```ts
 * const request = parseAdmissionReview(JSON.parse(body));
 * ```
 */
export function parseAdmissionReview(value: unknown): AdmissionRequest {
  if (!isRecord(value)) throw new MalformedReviewError('the body is not a JSON object');
  if (value.kind !== 'AdmissionReview') throw new MalformedReviewError(`kind is ${JSON.stringify(value.kind)}, expected "AdmissionReview"`);
  if (value.apiVersion !== ADMISSION_API_VERSION) throw new MalformedReviewError(`apiVersion is ${JSON.stringify(value.apiVersion)}, expected "${ADMISSION_API_VERSION}"`);
  const request = value.request;
  if (!isRecord(request)) throw new MalformedReviewError('request is missing');
  if (typeof request.uid !== 'string' || request.uid === '') throw new MalformedReviewError('request.uid is missing');
  if (typeof request.operation !== 'string' || request.operation === '') throw new MalformedReviewError('request.operation is missing');
  if (EVALUATED_OPERATIONS.includes(request.operation) && !isRecord(request.object)) throw new MalformedReviewError(`request.object is missing for ${request.operation}`);
  for (const key of ['namespace', 'name', 'subResource'] as const)
    if (request[key] !== undefined && typeof request[key] !== 'string') throw new MalformedReviewError(`request.${key} is not a string`);
  if (request.dryRun !== undefined && typeof request.dryRun !== 'boolean') throw new MalformedReviewError('request.dryRun is not a boolean');
  return request as unknown as AdmissionRequest;
}

/** The review to send back for a request. */
export const reviewResponse = (response: AdmissionResponse): AdmissionReviewResponse => ({ apiVersion: ADMISSION_API_VERSION, kind: 'AdmissionReview', response });
