/**
 * IP addresses and CIDR sets: parsing (IPv4, IPv6 with `::` and embedded IPv4, IPv4-mapped IPv6 read as IPv4) and a
 * set of CIDRs compiled into sorted, merged ranges so a lookup is one binary search: IPv4 on unsigned 32-bit numbers,
 * IPv6 on bigints. Web APIs only.
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

function merge(ranges: Array<[bigint, bigint]>): Array<[bigint, bigint]> {
  ranges.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Array<[bigint, bigint]> = [];
  for (const [s, e] of ranges) {
    const last = out[out.length - 1];
    if (last && s <= last[1] + 1n) last[1] = e > last[1] ? e : last[1];
    else out.push([s, e]);
  }
  return out;
}

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
    private readonly v6: Array<[bigint, bigint]>,
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
    const m4 = merge(v4);
    return new CidrSet(Uint32Array.from(m4, (r) => Number(r[0])), Uint32Array.from(m4, (r) => Number(r[1])), merge(v6));
  }

  get size(): number {
    return this.v4Start.length + this.v6.length;
  }

  has(ip: ParsedIp): boolean {
    if (ip.family === 4) {
      const starts = this.v4Start;
      let lo = 0;
      let hi = starts.length - 1;
      // The last range starting at or below the address is the only one that can hold it.
      while (lo <= hi) {
        const mid = (lo + hi) >>> 1;
        if (starts[mid]! <= ip.value) lo = mid + 1;
        else hi = mid - 1;
      }
      return hi >= 0 && ip.value <= this.v4End[hi]!;
    }
    const ranges = this.v6;
    let lo = 0;
    let hi = ranges.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (ranges[mid]![0] <= ip.value) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip.value <= ranges[hi]![1];
  }
}
