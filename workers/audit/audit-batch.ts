import { PalisadeError } from '../http/errors.ts';

/** One element of a batch before validation: a parsed value, or the reason its NDJSON line did not parse. */
export type BatchItem = { index: number; value: unknown } | { index: number; malformed: string };
export type BatchFormat = 'json' | 'ndjson';

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;
const NDJSON_TYPE = /^application\/(?:x-)?ndjson\s*(?:;|$)/i;

/** `application/json` (an array of events) or `application/x-ndjson` (one event a line); 415 for anything else. */
export function batchFormat(contentType: string | undefined): BatchFormat {
  if (JSON_TYPE.test(contentType ?? '')) return 'json';
  if (NDJSON_TYPE.test(contentType ?? '')) return 'ndjson';
  throw new PalisadeError('unsupported_media_type', `send events as application/json (an array) or application/x-ndjson (got ${contentType || 'no Content-Type'})`);
}

const tooLarge = (maxBytes: number) => new PalisadeError('payload_too_large', `the batch exceeds ${maxBytes} bytes (after decompression)`);

/**
 * The request body as text, decompressed when `Content-Encoding: gzip` (DecompressionStream, a Web API Workers have
 * too). Reading stops as soon as the decompressed size passes `maxBytes`, so a small gzip bomb costs nothing.
 */
export async function readBatchText(request: Request, maxBytes: number): Promise<string> {
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  let stream = request.body;
  if (encoding === 'gzip' || encoding === 'x-gzip') {
    stream = stream?.pipeThrough(new DecompressionStream('gzip')) ?? null;
  } else if (encoding !== 'identity' && encoding !== '') {
    throw new PalisadeError('unsupported_media_type', `Content-Encoding ${encoding} is not supported; send gzip or no encoding`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (stream) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        total += value.byteLength;
        if (total > maxBytes) {
          void reader.cancel().catch(() => {});
          throw tooLarge(maxBytes);
        }
        chunks.push(value);
      }
    } catch (cause) {
      if (cause instanceof PalisadeError) throw cause;
      throw new PalisadeError('malformed_request', `the body could not be read${encoding === 'identity' ? '' : ' as gzip'}: ${(cause as Error).message}`, { cause });
    }
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new PalisadeError('malformed_request', 'the body is not valid UTF-8', { cause });
  }
}

/**
 * Splits a batch into its events. A JSON body that does not parse is 400 and one that is not an array 422; an NDJSON
 * line that does not parse only rejects that event. More than `maxEvents` events is 413.
 */
export function parseBatch(text: string, format: BatchFormat, maxEvents: number): BatchItem[] {
  const tooMany = (n: number) => new PalisadeError('payload_too_large', `the batch holds ${n} events; at most ${maxEvents} are accepted at once`);
  if (format === 'json') {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new PalisadeError('malformed_request', `the body is not valid JSON: ${(cause as Error).message}`, { cause });
    }
    if (!Array.isArray(body)) throw new PalisadeError('validation_failed', 'the body must be a JSON array of events', { errors: [{ pointer: '', detail: 'must be an array' }] });
    if (body.length > maxEvents) throw tooMany(body.length);
    return body.map((value, index) => ({ index, value }));
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length > maxEvents) throw tooMany(lines.length);
  return lines.map((line, index) => {
    try {
      return { index, value: JSON.parse(line) as unknown };
    } catch (cause) {
      return { index, malformed: `the line is not valid JSON: ${(cause as Error).message}` };
    }
  });
}
