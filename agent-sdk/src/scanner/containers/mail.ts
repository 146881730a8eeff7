import { ContainerError, type Member, type UnpackBudget } from '../types.ts';

/**
 * A mail message (.eml: RFC 5322 headers, MIME per RFC 2045/2046): every leaf part decoded (base64 natively,
 * quoted-printable here) and every `message/rfc822` part as a member of its own, which the scanner then opens as mail
 * under its own depth limit. Written here rather than taken from postal-mime: on the scanner's corpus postal-mime
 * parsed 0.5-2 MB/s, several times slower than everything else the scanner does per byte (see the closing note of
 * the file-threat-protection work); a scanner needs the parts' bytes, not a rendered message.
 */

const MAX_MULTIPART_DEPTH = 64;

interface Headers {
  type: string;
  boundary?: string;
  encoding: string;
  filename?: string;
}

function headerEnd(data: Buffer, from: number): { end: number; body: number } {
  const crlf = data.indexOf('\r\n\r\n', from, 'latin1');
  const lf = data.indexOf('\n\n', from, 'latin1');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { end: crlf, body: crlf + 4 };
  if (lf >= 0) return { end: lf, body: lf + 2 };
  return { end: data.length, body: data.length };
}

/** A header's parameter (`boundary`, `filename`, `name`), quoted or not, RFC 2231 continuations not joined. */
function param(value: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${name}\\*?=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parseHeaders(text: string): Headers {
  const fields = new Map<string, string>();
  for (const line of text.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const contentType = fields.get('content-type') ?? 'text/plain';
  const disposition = fields.get('content-disposition') ?? '';
  const filename = param(disposition, 'filename') ?? param(contentType, 'name');
  return {
    type: contentType.split(';')[0]!.trim().toLowerCase(),
    boundary: param(contentType, 'boundary'),
    encoding: (fields.get('content-transfer-encoding') ?? '7bit').toLowerCase(),
    ...(filename ? { filename } : {}),
  };
}

export function decodeQuotedPrintable(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(data.length);
  let o = 0;
  const hex = (c: number) => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c !== 61) out[o++] = c;
    else if (data[i + 1] === 13 && data[i + 2] === 10) i += 2;
    else if (data[i + 1] === 10) i += 1;
    else {
      const hi = hex(data[i + 1] ?? -1);
      const lo = hex(data[i + 2] ?? -1);
      if (hi < 0 || lo < 0) out[o++] = c;
      else {
        out[o++] = (hi << 4) | lo;
        i += 2;
      }
    }
  }
  return out.subarray(0, o);
}

function decode(body: Buffer, encoding: string): Uint8Array {
  if (encoding === 'base64') return Buffer.from(body.toString('latin1'), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** The parts between `--boundary` delimiter lines, up to the closing `--boundary--`. */
function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let at = body.indexOf(delimiter);
  while (at >= 0) {
    const lineEnd = body.indexOf(10, at);
    if (lineEnd < 0) break;
    const closing = body[at + delimiter.length] === 45 && body[at + delimiter.length + 1] === 45;
    if (closing) break;
    let next = body.indexOf(delimiter, lineEnd);
    while (next > 0 && body[next - 1] !== 10) next = body.indexOf(delimiter, next + 1);
    const end = next < 0 ? body.length : next - (body[next - 2] === 13 ? 2 : 1);
    parts.push(body.subarray(lineEnd + 1, Math.max(lineEnd + 1, end)));
    at = next;
  }
  return parts;
}

export function readMail(data: Uint8Array, budget: UnpackBudget): Member[] {
  const members: Member[] = [];
  const walk = (entity: Buffer, depth: number, top: boolean) => {
    if (depth > MAX_MULTIPART_DEPTH) throw new ContainerError('limit', 'MIME parts nested too deep', 'depth');
    const { end, body } = headerEnd(entity, 0);
    const headers = parseHeaders(entity.subarray(0, end).toString('latin1'));
    const content = entity.subarray(body);
    if (headers.type.startsWith('multipart/') && headers.boundary) {
      for (const part of splitMultipart(content, headers.boundary)) walk(part, depth + 1, false);
      return;
    }
    const decoded = decode(content, headers.encoding);
    const fallback = headers.type === 'message/rfc822' ? 'message.eml' : headers.type === 'text/html' ? 'body.html' : top || headers.type.startsWith('text/') ? 'body.txt' : 'part';
    const name = headers.filename ?? `${fallback.replace(/(\.\w+)?$/, `-${members.length + 1}$1`)}`;
    if (decoded.length > budget.maxMemberBytes) throw new ContainerError('limit', `mail part ${name} is ${decoded.length} bytes`, 'objectSize');
    if ((budget.remainingBytes -= decoded.length) < 0) throw new ContainerError('limit', 'mail parts exceed the total size limit', 'totalSize');
    if ((budget.remainingEntries -= 1) < 0) throw new ContainerError('limit', 'too many mail parts', 'entries');
    members.push({ name, data: decoded });
  };
  walk(Buffer.from(data.buffer, data.byteOffset, data.byteLength), 0, true);
  return members;
}
