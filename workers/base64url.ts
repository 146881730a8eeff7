/** base64url without padding (RFC 4648 §5, as JWS and cookies use it), on every runtime (`btoa`, no Buffer). */

/** Of bytes; in chunks, so a megabyte signature input does not overflow the argument list of `fromCharCode`. */
export function base64urlBytes(bytes: Uint8Array): string {
  const chunks: string[] = [];
  for (let i = 0; i < bytes.length; i += 0x8000) chunks.push(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  return toUrl(btoa(chunks.join('')));
}

const NON_ASCII = /[^\x00-\x7f]/;

/** Of a string's UTF-8 bytes; ASCII text (canonical JSON usually is) goes to `btoa` as is: its chars are its bytes. */
export function base64urlText(text: string): string {
  return NON_ASCII.test(text) ? base64urlBytes(new TextEncoder().encode(text)) : toUrl(btoa(text));
}

function toUrl(b64: string): string {
  const end = b64.endsWith('==') ? -2 : b64.endsWith('=') ? -1 : b64.length;
  return b64.slice(0, end).replaceAll('+', '-').replaceAll('/', '_');
}
