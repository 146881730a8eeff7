import { BundleVerificationError } from './errors.ts';
import { endpoint, readLimited, responseError, withDeadline } from './http.ts';

export interface DownloadRequest {
  url: string;
  credential: string;
  /** ETag of the bundle held now; the server answers 304 when it is still current. */
  etag: string | null;
  /** Long poll: ask the server to hold the request up to this many seconds until something changes. */
  waitSeconds: number;
  maxBytes: number;
  /** Deadline for the whole download, on top of `waitSeconds`. */
  timeoutMs: number;
  fetch: typeof fetch;
  signal?: AbortSignal;
}

export type DownloadResult = { status: 'not_modified' } | { status: 'downloaded'; body: Uint8Array; etag: string | null };

/**
 * `GET /v1/agent/bundle` once. Throws `ControlPlaneError` for transport and HTTP failures and
 * `BundleVerificationError('too_large')` for a body over the limit (declared or actual).
 */
export function downloadBundle(req: DownloadRequest): Promise<DownloadResult> {
  const url = endpoint(req.url, '/v1/agent/bundle');
  if (req.waitSeconds > 0) url.searchParams.set('wait', String(req.waitSeconds));
  const headers: Record<string, string> = {
    authorization: `Bearer ${req.credential}`,
    accept: 'application/jose',
    'accept-encoding': 'gzip',
  };
  if (req.etag !== null) headers['if-none-match'] = req.etag;
  return withDeadline(req.timeoutMs + req.waitSeconds * 1000, req.signal, async (signal) => {
    const res = await req.fetch(url, { headers, signal, redirect: 'error' });
    if (res.status === 304) {
      await res.body?.cancel().catch(() => undefined);
      return { status: 'not_modified' };
    }
    if (res.status !== 200) throw await responseError(res, 'bundle download');
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (!encoded && declared > req.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new BundleVerificationError('too_large', `server announced ${declared} bytes, more than the limit of ${req.maxBytes}`);
    }
    return { status: 'downloaded', body: await gunzipIfNeeded(await readLimited(res.body, req.maxBytes), req.maxBytes), etag: res.headers.get('etag') };
  });
}

/**
 * Node's and browsers' `fetch` decode `Content-Encoding: gzip` themselves, but not every `fetch` does (Hono's
 * `app.request`, some proxies' clients). A compact JWS is ASCII, so the gzip magic bytes can only mean a body still
 * compressed; it is inflated here, under the same size limit.
 */
export async function gunzipIfNeeded(body: Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (body[0] !== 0x1f || body[1] !== 0x8b) return body;
  const inflated = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('gzip'));
  try {
    return await readLimited(inflated, maxBytes);
  } catch (cause) {
    if (cause instanceof BundleVerificationError) throw cause;
    throw new BundleVerificationError('malformed', 'the body is broken gzip', { cause });
  }
}
