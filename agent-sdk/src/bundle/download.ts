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
    return { status: 'downloaded', body: await readLimited(res.body, req.maxBytes), etag: res.headers.get('etag') };
  });
}
