import type { IncomingMessage } from 'node:http';

/** A request the server refuses before deciding anything: the status code and a message for the caller. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The media type of a request, lower-cased, without parameters (`application/json; charset=utf-8` → `application/json`). */
export const mediaType = (req: IncomingMessage) => (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

/**
 * Reads a request body of at most `maxBytes`, refusing early when `Content-Length` already says it is larger (413),
 * and giving up after `deadlineMs` (408). The caller answers with the `HttpError` it throws. A plain timer, not
 * `AbortSignal.timeout`: that costs ~25x more (7.7 µs against 0.3 µs) and its timer lives until it fires.
 */
export function readBody(req: IncomingMessage, maxBytes: number, deadlineMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) return Promise.reject(new HttpError(413, `the body is ${declared} bytes; the limit is ${maxBytes}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err?: HttpError) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve(Buffer.concat(chunks, size));
    };
    const onAbort = () => finish(new HttpError(408, 'the request body did not arrive within the deadline'));
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(new HttpError(413, `the body is larger than the limit of ${maxBytes} bytes`));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (err: Error) => finish(new HttpError(400, `the request failed: ${err.message}`));
    const timer = setTimeout(onAbort, deadlineMs);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}
