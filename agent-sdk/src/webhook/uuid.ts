const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = 16 * 256;
let pool = new Uint8Array(0);
let offset = POOL;

/** 16 random bytes, from a pool refilled by Web Crypto every 256 ids (one `getRandomValues` per id is the slow part). */
function randomBytes(): Uint8Array {
  if (offset >= pool.length) {
    pool = crypto.getRandomValues(new Uint8Array(POOL));
    offset = 0;
  }
  offset += 16;
  return pool.subarray(offset - 16, offset);
}

/**
 * RFC 9562 UUIDv7 (time-ordered), the id format of audit events. Web Crypto only.
 *
 * @example
 * ```ts
 * auditEvents(decision, input, { newId: () => uuidv7(), now });
 * ```
 */
export function uuidv7(now: number = Date.now()): string {
  const b = randomBytes();
  let s = '';
  for (let i = 0; i < 16; i++) {
    const byte = i < 6 ? Math.floor(now / 2 ** (8 * (5 - i))) & 0xff : i === 6 ? (b[i]! & 0x0f) | 0x70 : i === 8 ? (b[i]! & 0x3f) | 0x80 : b[i]!;
    s += HEX[byte]!;
    if (i === 3 || i === 5 || i === 7 || i === 9) s += '-';
  }
  return s;
}
