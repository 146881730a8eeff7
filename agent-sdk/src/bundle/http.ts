import { BundleVerificationError } from './errors.ts';

/**
 * Why a request to the control plane failed (as opposed to a bundle being refused). `insecure`: trust keys were not
 * fetched because the URL is plain HTTP.
 */
export type TransportErrorCode = 'network' | 'timeout' | 'http_error' | 'unauthorized' | 'insecure';

/**
 * The control plane could not be reached, answered too slowly, or answered with an error status.
 *
 * @example
 * ```ts
 * const result = await client.pollOnce();
 * if (result.outcome === 'failed' && result.error instanceof ControlPlaneError && result.error.code === 'unauthorized')
 *   console.error('credential revoked: enroll again');
 * ```
 */
export class ControlPlaneError extends Error {
  override readonly name = 'ControlPlaneError';
  readonly code: TransportErrorCode;
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** From `Retry-After`, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(code: TransportErrorCode, message: string, extra: { status?: number; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    this.status = extra.status;
    this.retryAfterMs = extra.retryAfterMs;
  }
}

/**
 * Runs `request` under a deadline covering the whole exchange, body included. A deadline becomes a `timeout` error,
 * any other failure a `network` error; when `stop` aborts, its abort error is rethrown as is.
 */
export async function withDeadline<T>(timeoutMs: number, stop: AbortSignal | undefined, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = stop === undefined ? deadline : AbortSignal.any([deadline, stop]);
  try {
    return await request(signal);
  } catch (err) {
    if (err instanceof ControlPlaneError || err instanceof BundleVerificationError) throw err;
    if (stop?.aborted) throw err;
    if (deadline.aborted) throw new ControlPlaneError('timeout', `no complete answer within ${timeoutMs} ms`, { cause: err });
    throw new ControlPlaneError('network', `request failed: ${describe(err)}`, { cause: err });
  }
}

/** Reads a body, refusing (`too_large`) as soon as it passes `maxBytes`: gzip bombs stop at the limit. */
export async function readLimited(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array();
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BundleVerificationError('too_large', `response body passed the limit of ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) out.set(chunk, (offset += chunk.byteLength) - chunk.byteLength);
  return out;
}

/** Turns a non-success response into a `ControlPlaneError`, with the RFC 9457 problem's title and detail when given. */
export async function responseError(res: Response, what: string): Promise<ControlPlaneError> {
  let problem = '';
  try {
    const text = new TextDecoder().decode(await readLimited(res.body, 64 * 1024));
    const body = JSON.parse(text) as { title?: unknown; detail?: unknown };
    problem = [body.title, body.detail].filter((s) => typeof s === 'string').join(': ');
  } catch {
    // not problem+json, or too long: the status says enough
  }
  const code = res.status === 401 || res.status === 403 ? 'unauthorized' : 'http_error';
  const retryAfter = Number(res.headers.get('retry-after'));
  return new ControlPlaneError(code, `${what}: HTTP ${res.status}${problem ? ` (${problem})` : ''}`, {
    status: res.status,
    ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
  });
}

/** Joins a base URL (with or without a path or trailing slash) and an absolute API path. */
export function endpoint(base: string, path: string): URL {
  const url = new URL(base);
  url.pathname = url.pathname.replace(/\/+$/, '') + path;
  return url;
}

function describe(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown; code?: unknown } };
  const inner = e.cause?.code ?? e.cause?.message;
  return `${String(e.message ?? err)}${inner !== undefined ? ` (${String(inner)})` : ''}`;
}
