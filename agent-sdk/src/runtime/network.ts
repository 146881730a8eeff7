import type { NetworkPeer } from '../../../schema/runtime-profiles.ts';
import { atOrBelowV6, mergeRanges, parseCidr, searchV6, wordsOf, wordsToBigInt, type ParsedIp } from './cidr.ts';
import type { Protocol } from './event.ts';

/** Names an address is known by, from the agent's own resolution of the FQDNs profiles list (see `FqdnResolver`). */
export interface FqdnIndex {
  namesOf(ip: ParsedIp): ReadonlySet<string> | undefined;
}

type Ports = ReadonlyArray<readonly [number, number]> | undefined;

/** `443`, `8000-8080` → sorted ranges; `undefined` (any port) when no ports are listed. */
export function parsePorts(ports: readonly string[] | undefined): Ports {
  if (!ports || ports.length === 0) return undefined;
  return ports
    .map((p) => {
      const [from, to = from] = p.split('-').map(Number) as [number, number?];
      return [from, to] as const;
    })
    .sort((a, b) => a[0] - b[0]);
}

function portInRanges(ports: Ports, port: number): boolean {
  if (ports === undefined) return true;
  for (const range of ports) if (port >= range[0] && port <= range[1]) return true;
  return false;
}

/** Protocol slots of a permission: TCP, UDP, SCTP, and anything else (which only `any` peers allow). */
const SLOTS = 4;
export function protocolSlot(protocol: string): number {
  return protocol === 'TCP' ? 0 : protocol === 'UDP' ? 1 : protocol === 'SCTP' ? 2 : 3;
}
const SLOT_PROTOCOLS = ['TCP', 'UDP', 'SCTP', ''] as const;
/** Permission cell values: no port, every port, or (≥ 0) the index of a port bitset. */
const NONE = -1;
const ANY = -2;

interface FqdnPeer {
  protocol: Protocol | 'any';
  ports: Ports;
  /** Lower case; a leading `*.` matches any name below it that the agent resolved. */
  fqdn: string;
}

interface Peer {
  protocol: Protocol | 'any';
  ports: Ports;
}

/**
 * Address ranges of one family split into non-overlapping segments, each carrying a permission (which protocols and
 * ports its peers allow), adjacent segments with the same permission merged. A lookup is one binary search and one
 * table read.
 */
interface Segments {
  starts: Uint32Array;
  ends: Uint32Array;
  perm: Int32Array;
  /**
   * IPv4 only: `top[b]` is the first segment starting at or above `b << 24`, so a search only looks among the
   * segments starting in the address's own /8 (one or two cache lines). On the node the tables of many profiles
   * compete for the cache with every parsed event, and a plain binary search over 1,000 ranges costs a miss per step.
   */
  top?: Int32Array;
}

const PROBE = new Uint32Array(4);

/**
 * A profile's ingress or egress rule, compiled: while enabled, only the listed peers (CIDRs, IPv4 and IPv6, or
 * FQDNs, each with optional ports and a protocol) may be connected to (egress) or accept connections from (ingress).
 * All CIDRs of the list are merged into one table of non-overlapping ranges (IPv4 as 32-bit numbers, IPv6 as four
 * 32-bit words), each range pointing at a permission: per protocol, none, every port, or a 65,536-bit port set. So
 * 1,000 CIDRs with mixed ports and protocols cost one binary search and one bit test, and nothing is allocated.
 */
export class NetworkRule {
  readonly fqdns: FqdnPeer[] = [];
  readonly #v4: Segments;
  readonly #v6: Segments;
  /** `SLOTS` cells per permission: NONE, ANY, or an index into `#bits`. */
  readonly #cells: Int32Array;
  readonly #bits: Uint32Array[] = [];
  /** The ranges behind each bitset, for a port that is not an integer in 0–65535 (the bitset cannot answer it). */
  readonly #bitRanges: Array<ReadonlyArray<readonly [number, number]>> = [];

  constructor(readonly allowed: readonly NetworkPeer[]) {
    const peers: Peer[] = [];
    const groups = new Map<string, number>();
    const v4: Array<[bigint, bigint, number]> = [];
    const v6: Array<[bigint, bigint, number]> = [];
    for (const peer of allowed) {
      const ports = parsePorts(peer.ports);
      if ('fqdn' in peer) {
        this.fqdns.push({ protocol: peer.protocol, ports, fqdn: peer.fqdn.toLowerCase() });
        continue;
      }
      const r = parseCidr(peer.cidr);
      if (!r) throw new RangeError(`not a CIDR: ${peer.cidr}`);
      // Peers sharing protocol and ports are one group: the sweep below then sees few distinct permissions.
      const key = `${peer.protocol} ${ports ? ports.map(([a, b]) => `${a}-${b}`).join(',') : '*'}`;
      let group = groups.get(key);
      if (group === undefined) groups.set(key, (group = peers.length)), peers.push({ protocol: peer.protocol, ports });
      (r.family === 4 ? v4 : v6).push([r.start, r.end, group]);
    }
    const byActive = new Map<string, number>();
    const byCells = new Map<string, number>();
    const cells: number[] = [];
    const bitsByKey = new Map<string, number>();
    const permOf = (active: number[]): number => {
      const key = active.join(',');
      let id = byActive.get(key);
      if (id !== undefined) return id;
      const mine: number[] = [];
      for (let slot = 0; slot < SLOTS; slot++) mine.push(this.#cell(active.map((i) => peers[i]!), SLOT_PROTOCOLS[slot]!, bitsByKey));
      // Equal permissions share one id, so neighbouring segments that allow the same merge.
      id = byCells.get(mine.join(','));
      if (id === undefined) byCells.set(mine.join(','), (id = byCells.size)), cells.push(...mine);
      byActive.set(key, id);
      return id;
    };
    this.#v4 = segments(v4, 4, permOf);
    this.#v6 = segments(v6, 6, permOf);
    this.#cells = Int32Array.from(cells);
  }

  /** The permission cell of one protocol for a set of peers: any port if one allows any, else the union of ports. */
  #cell(peers: Peer[], protocol: string, bitsByKey: Map<string, number>): number {
    const ranges: Array<[number, number]> = [];
    for (const p of peers) {
      if (p.protocol !== 'any' && p.protocol !== protocol) continue;
      if (p.ports === undefined) return ANY;
      for (const r of p.ports) ranges.push([r[0], r[1]]);
    }
    if (ranges.length === 0) return NONE;
    ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const key = ranges.map((r) => `${r[0]}-${r[1]}`).join(',');
    let index = bitsByKey.get(key);
    if (index === undefined) {
      const bits = new Uint32Array(2048);
      for (const [a, b] of ranges) for (let port = Math.max(0, Math.ceil(a)); port <= Math.min(65535, b); port++) bits[port >>> 5]! |= 1 << (port & 31);
      index = this.#bits.length;
      this.#bits.push(bits);
      this.#bitRanges.push(ranges);
      bitsByKey.set(key, index);
    }
    return index;
  }

  #permits(perm: number, port: number, slot: number): boolean {
    const cell = this.#cells[perm * SLOTS + slot]!;
    if (cell === ANY) return true;
    if (cell === NONE) return false;
    if ((port & 0xffff) === port) return ((this.#bits[cell]![port >>> 5]! >>> (port & 31)) & 1) === 1;
    return portInRanges(this.#bitRanges[cell], port);
  }

  /** Whether a connection with this peer is allowed (compiling and tests; the per-event path is `allowsIp`). */
  allows(ip: ParsedIp, port: number, protocol: Protocol, names?: FqdnIndex): boolean {
    if (ip.family === 4) PROBE[0] = ip.value;
    else wordsOf(ip.value, PROBE);
    return this.allowsIp(ip.family, PROBE, port, protocolSlot(protocol), protocol, names);
  }

  /**
   * The per-event form: the peer as `parseIpInto` left it (`family` 4 or 6, `words`), the protocol both as its slot
   * (`protocolSlot`) and as text (for FQDN peers, rare). Allocates nothing unless FQDN peers must be consulted.
   */
  allowsIp(family: 4 | 6, words: Uint32Array, port: number, slot: number, protocol: string, names?: FqdnIndex): boolean {
    if (family === 4) {
      const s = this.#v4;
      const v = words[0]!;
      const top = s.top!;
      const b = v >>> 24;
      const i = searchV4Between(s.starts, v, top[b]!, top[b + 1]! - 1);
      if (i >= 0 && v <= s.ends[i]! && this.#permits(s.perm[i]!, port, slot)) return true;
    } else {
      const s = this.#v6;
      const i = searchV6(s.starts, words);
      if (i >= 0 && atOrBelowV6(s.ends, i, words) && this.#permits(s.perm[i]!, port, slot)) return true;
    }
    if (this.fqdns.length === 0 || !names) return false;
    const ip: ParsedIp = family === 4 ? { family: 4, value: words[0]! } : { family: 6, value: wordsToBigInt(words) };
    const known = names.namesOf(ip);
    if (!known) return false;
    for (const f of this.fqdns) {
      if ((f.protocol !== 'any' && f.protocol !== protocol) || !portInRanges(f.ports, port)) continue;
      if (f.fqdn.startsWith('*.')) {
        const suffix = f.fqdn.slice(1);
        for (const n of known) if (n.endsWith(suffix)) return true;
      } else if (known.has(f.fqdn)) return true;
    }
    return false;
  }
}

/**
 * The last of `starts[lo..hi]` at or below `v`, or `lo - 1` when none is: the right answer over the whole table when
 * every start before `lo` is at or below `v` and every start after `hi` above it.
 */
function searchV4Between(starts: Uint32Array, v: number, lo: number, hi: number): number {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (starts[mid]! <= v) lo = mid + 1;
    else hi = mid - 1;
  }
  return hi;
}

/**
 * Sweeps ranges tagged with their peer into non-overlapping segments, each with the permission of the peers covering
 * it; adjacent segments with one permission are merged, uncovered space is left out (not allowed).
 */
function segments(ranges: Array<[bigint, bigint, number]>, family: 4 | 6, permOf: (active: number[]) => number): Segments {
  // Each peer's own ranges merged first, so the sweep sees few boundaries.
  const byPeer = new Map<number, Array<[bigint, bigint]>>();
  for (const [s, e, p] of ranges) (byPeer.get(p) ?? byPeer.set(p, []).get(p)!).push([s, e]);
  const points: Array<[bigint, number, 1 | -1]> = [];
  for (const [p, list] of byPeer) for (const [s, e] of mergeRanges(list)) points.push([s, p, 1], [e + 1n, p, -1]);
  points.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const active = new Map<number, number>();
  const out: Array<[bigint, bigint, number]> = [];
  for (let i = 0; i < points.length; ) {
    const at = points[i]![0];
    for (; i < points.length && points[i]![0] === at; i++) {
      const [, p, d] = points[i]!;
      const n = (active.get(p) ?? 0) + d;
      if (n === 0) active.delete(p);
      else active.set(p, n);
    }
    if (active.size === 0 || i === points.length) continue;
    const perm = permOf([...active.keys()].sort((a, b) => a - b));
    const end = points[i]![0] - 1n;
    const last = out[out.length - 1];
    if (last && last[2] === perm && last[1] + 1n === at) last[1] = end;
    else out.push([at, end, perm]);
  }
  const width = family === 4 ? 1 : 4;
  const starts = new Uint32Array(out.length * width);
  const ends = new Uint32Array(out.length * width);
  out.forEach(([s, e], i) => {
    if (family === 4) (starts[i] = Number(s)), (ends[i] = Number(e));
    else wordsOf(s, starts, i * 4), wordsOf(e, ends, i * 4);
  });
  const perm = Int32Array.from(out, (r) => r[2]);
  if (family === 6) return { starts, ends, perm };
  const top = new Int32Array(257);
  for (let b = 0, i = 0; b <= 256; b++) {
    while (i < starts.length && starts[i]! < b * 2 ** 24) i++;
    top[b] = i;
  }
  return { starts, ends, perm, top };
}
