/**
 * IP literal parsing and classification, pure, for the SSRF guard (ssrf.ts). Only canonical forms are accepted: a
 * URL's host has already been normalized by the WHATWG URL parser (`0x7f.1`, `2130706433` and `0177.0.0.1` all become
 * `127.0.0.1`), and resolvers answer canonical text. Anything else is not an address, which the guard refuses.
 */
export type AddressClass = 'public' | 'loopback' | 'private' | 'cgnat' | 'linkLocal' | 'uniqueLocal' | 'unspecified' | 'multicast' | 'reserved';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEXTET = /^[0-9a-f]{1,4}$/i;

export function parseIPv4(text: string): number[] | undefined {
  const m = IPV4.exec(text);
  return m ? m.slice(1, 5).map(Number) : undefined;
}

/** 16 bytes, or undefined. Accepts `::` compression, an embedded dotted IPv4 tail, brackets and a zone (`%eth0`). */
export function parseIPv6(input: string): number[] | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  text = text.replace(/%[\w.~-]+$/, '');
  if (!text.includes(':') || text.split('::').length > 2) return undefined;
  const expand = (part: string): number[] | undefined => {
    if (part === '') return [];
    const groups = part.split(':');
    const out: number[] = [];
    for (const [i, group] of groups.entries()) {
      const v4 = i === groups.length - 1 ? parseIPv4(group) : undefined;
      if (v4) out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      else if (HEXTET.test(group)) out.push(parseInt(group, 16));
      else return undefined;
    }
    return out;
  };
  const [headText, tailText] = text.split('::') as [string, string | undefined];
  if (tailText !== undefined && headText.includes('.')) return undefined;
  const head = expand(headText);
  const tail = tailText === undefined ? [] : expand(tailText);
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if ((tailText === undefined && fill !== 0) || (tailText !== undefined && fill < 1)) return undefined;
  const hextets = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return hextets.flatMap((h) => [h >> 8, h & 0xff]);
}

const inV4 = (b: number[], prefix: number[], bits: number): boolean => {
  for (let i = 0; i < 4 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i]! & mask) !== (prefix[i]! & mask)) return false;
  }
  return true;
};

export function classifyIPv4(b: number[]): AddressClass {
  if (inV4(b, [0, 0, 0, 0], 8)) return 'unspecified';
  if (inV4(b, [127, 0, 0, 0], 8)) return 'loopback';
  if (inV4(b, [10, 0, 0, 0], 8) || inV4(b, [172, 16, 0, 0], 12) || inV4(b, [192, 168, 0, 0], 16)) return 'private';
  if (inV4(b, [100, 64, 0, 0], 10)) return 'cgnat';
  if (inV4(b, [169, 254, 0, 0], 16)) return 'linkLocal';
  if (inV4(b, [224, 0, 0, 0], 4)) return 'multicast';
  const reserved: Array<[number[], number]> = [
    [[192, 0, 0, 0], 24], [[192, 0, 2, 0], 24], [[192, 88, 99, 0], 24], [[198, 18, 0, 0], 15], [[198, 51, 100, 0], 24], [[203, 0, 113, 0], 24], [[240, 0, 0, 0], 4],
  ];
  return reserved.some(([p, bits]) => inV4(b, p, bits)) ? 'reserved' : 'public';
}

const word = (b: number[], i: number) => (b[2 * i]! << 8) | b[2 * i + 1]!;
const zeros = (b: number[], from: number, to: number) => b.slice(from, to).every((x) => x === 0);

/** Only global unicast (2000::/3) can be public; addresses that embed an IPv4 one are judged by it. */
export function classifyIPv6(b: number[]): AddressClass {
  if (zeros(b, 0, 16)) return 'unspecified';
  if (zeros(b, 0, 15) && b[15] === 1) return 'loopback';
  if (zeros(b, 0, 10) && word(b, 5) === 0xffff) return classifyIPv4(b.slice(12)); // ::ffff:a.b.c.d, mapped
  if (word(b, 0) === 0x64 && word(b, 1) === 0xff9b && zeros(b, 4, 12)) return classifyIPv4(b.slice(12)); // NAT64
  if (word(b, 0) === 0x2002) return classifyIPv4(b.slice(2, 6)); // 6to4
  if ((b[0]! & 0xfe) === 0xfc) return 'uniqueLocal';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'linkLocal';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0xc0) return 'private'; // site-local, deprecated
  if (b[0] === 0xff) return 'multicast';
  if (word(b, 0) === 0x2001 && (word(b, 1) === 0 || word(b, 1) === 0xdb8)) return 'reserved'; // Teredo, documentation
  return (b[0]! & 0xe0) === 0x20 ? 'public' : 'reserved'; // includes ::a.b.c.d (IPv4-compatible) and 100::/64
}

/** The class of an IP literal (brackets allowed), or undefined when the text is not one. */
export function classifyAddress(text: string): AddressClass | undefined {
  const v4 = parseIPv4(text);
  if (v4) return classifyIPv4(v4);
  const v6 = parseIPv6(text);
  return v6 ? classifyIPv6(v6) : undefined;
}
