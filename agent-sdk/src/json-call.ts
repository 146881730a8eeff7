import type { z } from 'zod';
import { BundleVerificationError } from './bundle/errors.ts';
import { ControlPlaneError, endpoint, readLimited, responseError, withDeadline } from './bundle/http.ts';
import { formatIssues } from './format-issues.ts';

export interface JsonCall<T> {
  /** Control plane base URL. */
  url: string;
  path: string;
  method: 'GET' | 'POST';
  /** Sent as `Authorization: Bearer`; enrollment has none. */
  credential?: string;
  body?: unknown;
  /** The answer, checked against this schema. */
  schema: z.ZodType<T>;
  /** Names the call in error messages, e.g. "enrollment". */
  what: string;
  /** Statuses that count as success (default 200 and 201). */
  ok?: number[];
  fetch?: typeof fetch;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Largest answer accepted (default 1 MiB). */
  maxBytes?: number;
}

/**
 * One JSON request to the control plane, its answer validated. Transport failures, error statuses and answers that
 * are not JSON of the expected shape all throw `ControlPlaneError`.
 *
 * @example
 * ```ts
 * const jwks = await callJson({ url, path: '/.well-known/jwks.json', method: 'GET', schema: TrustAnchor, what: 'trust refresh' });
 * ```
 */
export async function callJson<T>(call: JsonCall<T>): Promise<T> {
  const doFetch = call.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (call.credential !== undefined) headers.authorization = `Bearer ${call.credential}`;
  if (call.body !== undefined) headers['content-type'] = 'application/json';
  const text = await withDeadline(call.timeoutMs ?? 30_000, call.signal, async (signal) => {
    const body = call.body === undefined ? null : JSON.stringify(call.body);
    const res = await doFetch(endpoint(call.url, call.path), { method: call.method, headers, body, signal, redirect: 'error' });
    if (!(call.ok ?? [200, 201]).includes(res.status)) throw await responseError(res, call.what);
    const maxBytes = call.maxBytes ?? 1024 * 1024;
    const answer = await readLimited(res.body, maxBytes).catch((cause: unknown) => {
      // readLimited speaks of bundles (`too_large`); an oversized answer here is the control plane's error, not a refused bundle.
      throw cause instanceof BundleVerificationError ? new ControlPlaneError('http_error', `${call.what}: the answer is larger than ${maxBytes} bytes`, { status: res.status, cause }) : cause;
    });
    return new TextDecoder().decode(answer);
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ControlPlaneError('http_error', `${call.what}: the answer is not JSON`, { cause });
  }
  const parsed = call.schema.safeParse(json);
  if (!parsed.success) throw new ControlPlaneError('http_error', `${call.what}: unexpected answer: ${formatIssues(parsed.error)}`, { cause: parsed.error });
  return parsed.data;
}
