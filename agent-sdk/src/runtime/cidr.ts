/**
 * IP addresses and CIDR sets: parsing (IPv4, IPv6 with `::` and embedded IPv4, IPv4-mapped IPv6 read as IPv4) and a
 * set of CIDRs compiled into sorted, merged ranges so a lookup is one binary search: IPv4 on unsigned 32-bit numbers,
 * IPv6 on four 32-bit words. `parseIp` (bigints) is for compiling and the FQDN index; the per-event path parses with
 * `parseIpInto`, which allocates nothing. Web APIs only.
 */
export type ParsedIp = { family: 4; value: number } | { family: 6; value: bigint };

/** Parses an IPv4 dotted quad into an unsigned 32-bit number; `undefined` when it is not one. */
export function parseIpv4(text: string): number | undefined {
  // A character loop, not split + regex: this runs once per network event.
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // no leading zeros
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return undefined;
    } else return undefined;
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}

function parseIpv6(text: string): bigint | undefined {
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // Embedded IPv4 (`::ffff:10.0.0.1`): rewritten as its two 16-bit groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const group = (s: string) => (s === '' ? [] : s.split(':'));
  const head = group(halves[0]!);
  const rest = halves.length === 2 ? group(halves[1]!) : [];
  const total = head.length + rest.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  let value = 0n;
  for (const g of [...head, ...Array<string>(8 - total).fill('0'), ...rest]) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    value = (value << 16n) | BigInt(parseInt(g, 16));
  }
  return value;
}

const MAPPED_PREFIX = 0xffffn << 32n;

/** Parses an IP address; IPv4-mapped IPv6 (`::ffff:10.0.0.1`) is read as the IPv4 address it carries. */
export function parseIp(text: string): ParsedIp | undefined {
  if (text.includes(':')) {
    const v6 = parseIpv6(text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text);
    if (v6 === undefined) return undefined;
    if (v6 >> 32n === 0xffffn) return { family: 4, value: Number(v6 - MAPPED_PREFIX) };
    return { family: 6, value: v6 };
  }
  const v4 = parseIpv4(text);
  return v4 === undefined ? undefined : { family: 4, value: v4 };
}

export interface CidrRange {
  family: 4 | 6;
  start: bigint;
  end: bigint;
}

/** A CIDR (`10.0.0.0/8`, `2001:db8::/32`, or a bare address) as the inclusive range it covers. */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = ip.family === 4 ? 32 : 128;
  let len = bits;
  if (slash >= 0) {
    const suffix = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(suffix)) return undefined;
    len = Number(suffix);
    // A mapped IPv6 CIDR (`::ffff:10.0.0.0/104`) stands for the IPv4 CIDR inside it.
    if (addr.includes(':') && ip.family === 4) len -= 96;
    if (len < 0 || len > bits) return undefined;
  }
  const value = BigInt(ip.value);
  const host = (1n << BigInt(bits - len)) - 1n;
  return { family: ip.family, start: value & ~host, end: (value & ~host) | host };
}

/** Sorts and merges overlapping or adjacent inclusive ranges. */
export function mergeRanges(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [s, e] of ranges) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1n) last[1] = e > last[1] ? e : last[1];
    else out.push([s, e]);
  }
  return out;
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) (HEX[65 + i] = 10 + i), (HEX[97 + i] = 10 + i);
/** Scratch for the eight 16-bit groups of an IPv6 address (one parse at a time: JavaScript runs one at a time). */
const GROUPS = new Uint16Array(8);

/**
 * Parses an IP address into `out` without allocating: returns 4 (`out[0]` is the unsigned address; IPv4-mapped IPv6
 * included), 6 (`out[0..3]` are its four 32-bit words, most significant first) or 0 when it is not an address.
 * Accepts exactly what `parseIp` accepts.
 *
 * @example
 * ```ts
 * const words = new Uint32Array(4);
 * parseIpInto('10.0.0.1', words); // 4, words[0] === 0x0a000001
 * parseIpInto('2001:db8::1', words); // 6, words = [0x20010db8, 0, 0, 1]
 * ```
 */
export function parseIpInto(text: string, out: Uint32Array): 0 | 4 | 6 {
  if (text.indexOf(':') < 0) {
    const v4 = parseIpv4(text);
    if (v4 === undefined) return 0;
    out[0] = v4;
    return 4;
  }
  let i = 0;
  let end = text.length;
  if (text.charCodeAt(0) === 91 && text.charCodeAt(end - 1) === 93) (i = 1), end--;
  const zone = text.indexOf('%', i);
  if (zone >= 0 && zone < end) end = zone;
  let n = 0;
  let gap = -1;
  if (text.charCodeAt(i) === 58) {
    if (text.charCodeAt(i + 1) !== 58) return 0;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    const from = i;
    while (i < end) {
      const c = text.charCodeAt(i);
      const h = c < 128 ? HEX[c]! : -1;
      if (h < 0) break;
      value = value * 16 + h;
      digits++;
      i++;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // Embedded IPv4: only as the last part, and it stands for two groups.
      if (text.indexOf(':', from) >= 0 && text.indexOf(':', from) < end) return 0;
      const v4 = parseIpv4(text.slice(from, end));
      if (v4 === undefined || n > 6) return 0;
      GROUPS[n++] = v4 >>> 16;
      GROUPS[n++] = v4 & 0xffff;
      i = end;
      break;
    }
    if (digits === 0 || digits > 4 || n === 8) return 0;
    GROUPS[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return 0;
    i++;
    if (i < end && text.charCodeAt(i) === 58) {
      if (gap >= 0) return 0;
      gap = n;
      i++;
    } else if (i === end) return 0; // a trailing single colon
  }
  if (gap < 0 ? n !== 8 : n > 7) return 0;
  if (gap >= 0) {
    // Move the groups after `::` to the end and zero the gap.
    const tail = n - gap;
    for (let k = 0; k < tail; k++) GROUPS[7 - k] = GROUPS[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) GROUPS[k] = 0;
  }
  if (GROUPS[0] === 0 && GROUPS[1] === 0 && GROUPS[2] === 0 && GROUPS[3] === 0 && GROUPS[4] === 0 && GROUPS[5] === 0xffff) {
    out[0] = ((GROUPS[6]! << 16) | GROUPS[7]!) >>> 0;
    return 4;
  }
  for (let k = 0; k < 4; k++) out[k] = ((GROUPS[2 * k]! << 16) | GROUPS[2 * k + 1]!) >>> 0;
  return 6;
}

/** The four 32-bit words of a 128-bit value, into `out` at `at`. */
export function wordsOf(value: bigint, out: Uint32Array, at = 0): void {
  for (let k = 0; k < 4; k++) out[at + k] = Number((value >> BigInt(96 - 32 * k)) & 0xffffffffn);
}

/** The 128-bit value of four words (off the hot path: the FQDN index is keyed by `ParsedIp`). */
export function wordsToBigInt(w: Uint32Array, at = 0): bigint {
  return (BigInt(w[at]!) << 96n) | (BigInt(w[at + 1]!) << 64n) | (BigInt(w[at + 2]!) << 32n) | BigInt(w[at + 3]!);
}

/** Index of the last IPv4 range starting at or below `v` (-1: none); the only one that can hold it. */
export function searchV4(starts: Uint32Array, v: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= v) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** `a[at..at+3]` compared with `w[0..3]` as 128-bit numbers: negative, 0 or positive. */
function compare128(a: Uint32Array, at: number, w: Uint32Array): number {
  for (let k = 0; k < 4; k++) {
    const d = a[at + k]! - w[k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Index of the last IPv6 range (four words each) starting at or below `w` (-1: none). */
export function searchV6(starts: Uint32Array, w: Uint32Array): number {
  let lo = 0;
  let hi = (starts.length >>> 2) - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (compare128(starts, mid << 2, w) <= 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/** Whether `w` is at or below the 128-bit value at `ends[i*4..]`. */
export function atOrBelowV6(ends: Uint32Array, i: number, w: Uint32Array): boolean {
  return compare128(ends, i << 2, w) >= 0;
}

const PROBE = new Uint32Array(4);

/**
 * A set of CIDRs, compiled once: `has(ip)` is a binary search over merged ranges.
 *
 * @example
 * ```ts
 * const set = CidrSet.from(['10.0.0.0/8', '2001:db8::/32']);
 * set.has(parseIp('10.1.2.3')!); // true
 * ```
 */
export class CidrSet {
  private constructor(
    private readonly v4Start: Uint32Array,
    private readonly v4End: Uint32Array,
    /** Four words per range. */
    private readonly v6Start: Uint32Array,
    private readonly v6End: Uint32Array,
  ) {}

  /** Compiles CIDRs; throws `RangeError` naming the first that is not one. */
  static from(cidrs: Iterable<string>): CidrSet {
    const v4: Array<[bigint, bigint]> = [];
    const v6: Array<[bigint, bigint]> = [];
    for (const c of cidrs) {
      const r = parseCidr(c);
      if (!r) throw new RangeError(`not a CIDR: ${c}`);
      (r.family === 4 ? v4 : v6).push([r.start, r.end]);
    }
    const m4 = mergeRanges(v4);
    const m6 = mergeRanges(v6);
    const s6 = new Uint32Array(m6.length * 4);
    const e6 = new Uint32Array(m6.length * 4);
    m6.forEach(([s, e], i) => (wordsOf(s, s6, i * 4), wordsOf(e, e6, i * 4)));
    return new CidrSet(Uint32Array.from(m4, (r) => Number(r[0])), Uint32Array.from(m4, (r) => Number(r[1])), s6, e6);
  }

  get size(): number {
    return this.v4Start.length + this.v6Start.length / 4;
  }

  has(ip: ParsedIp): boolean {
    if (ip.family === 4) return this.hasV4(ip.value);
    wordsOf(ip.value, PROBE);
    return this.hasV6(PROBE);
  }

  /** An IPv4 address as an unsigned 32-bit number. */
  hasV4(v: number): boolean {
    const i = searchV4(this.v4Start, v);
    return i >= 0 && v <= this.v4End[i]!;
  }

  /** An IPv6 address as four 32-bit words (`parseIpInto`). */
  hasV6(w: Uint32Array): boolean {
    const i = searchV6(this.v6Start, w);
    return i >= 0 && atOrBelowV6(this.v6End, i, w);
  }
}
