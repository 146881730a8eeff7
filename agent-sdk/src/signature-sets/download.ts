import { MAX_SIGNED_SIGNATURES_BYTES } from '../../../schema/file-signature-sets.ts';
import { gunzipIfNeeded } from '../bundle/download.ts';
import { BundleVerificationError } from '../bundle/errors.ts';
import { endpoint, readLimited, responseError, withDeadline } from '../bundle/http.ts';

export interface SignatureDownloadRequest {
  url: string;
  credential: string;
  /** ETag of the set held now; the server answers 304 while it is still the current one. */
  etag: string | null;
  fetch: typeof fetch;
  maxBytes?: number;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export type SignatureDownloadResult = { status: 'not_modified' } | { status: 'downloaded'; body: Uint8Array; etag: string | null };

/**
 * `GET /v1/agent/file-signatures` once, gzip accepted. Throws `ControlPlaneError` for transport and HTTP failures and
 * `BundleVerificationError('too_large')` past the size limit (declared, received or inflated). The body is not
 * verified here: hand it to `verifySignatureSet`.
 *
 * @example
 * ```ts
 * const res = await downloadSignatureSet({ url, credential, etag: null, fetch });
 * if (res.status === 'downloaded') await verifySignatureSet(res.body, { trust, issuer, tenantId, expected, now: new Date() });
 * ```
 */
export function downloadSignatureSet(req: SignatureDownloadRequest): Promise<SignatureDownloadResult> {
  const maxBytes = req.maxBytes ?? MAX_SIGNED_SIGNATURES_BYTES;
  const headers: Record<string, string> = { authorization: `Bearer ${req.credential}`, accept: 'application/jose', 'accept-encoding': 'gzip' };
  if (req.etag !== null) headers['if-none-match'] = req.etag;
  return withDeadline(req.timeoutMs ?? 60_000, req.signal, async (signal) => {
    const res = await req.fetch(endpoint(req.url, '/v1/agent/file-signatures'), { headers, signal, redirect: 'error' });
    if (res.status === 304) {
      await res.body?.cancel().catch(() => undefined);
      return { status: 'not_modified' };
    }
    if (res.status !== 200) throw await responseError(res, 'signature set download');
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if ((res.headers.get('content-encoding') ?? 'identity') === 'identity' && declared > maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new BundleVerificationError('too_large', `server announced ${declared} bytes, more than the limit of ${maxBytes}`);
    }
    return { status: 'downloaded', body: await gunzipIfNeeded(await readLimited(res.body, maxBytes), maxBytes), etag: res.headers.get('etag') };
  });
}
