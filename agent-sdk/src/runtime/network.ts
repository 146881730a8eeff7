import type { NetworkPeer } from '../../../schema/runtime-profiles.ts';
import { CidrSet, type ParsedIp } from './cidr.ts';
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

function portAllowed(ports: Ports, port: number): boolean {
  if (ports === undefined) return true;
  for (const range of ports) if (port >= range[0] && port <= range[1]) return true;
  return false;
}

/** Peers sharing protocol and ports, their CIDRs in one set (so 1,000 CIDRs cost one binary search, not 1,000 tests). */
interface CidrGroup {
  protocol: Protocol | 'any';
  ports: Ports;
  portsKey: string;
  cidrs: CidrSet;
  sources: string[];
}

interface FqdnPeer {
  protocol: Protocol | 'any';
  ports: Ports;
  /** Lower case; a leading `*.` matches any name below it that the agent resolved. */
  fqdn: string;
}

/**
 * A profile's ingress or egress rule, compiled: while enabled, only the listed peers (CIDRs, IPv4 and IPv6, or
 * FQDNs, each with optional ports and a protocol) may be connected to (egress) or accept connections from (ingress).
 */
export class NetworkRule {
  readonly groups: CidrGroup[] = [];
  readonly fqdns: FqdnPeer[] = [];

  constructor(readonly allowed: readonly NetworkPeer[]) {
    const byKey = new Map<string, { protocol: Protocol | 'any'; ports: Ports; portsKey: string; cidrs: string[] }>();
    for (const peer of allowed) {
      const ports = parsePorts(peer.ports);
      const portsKey = ports ? ports.map(([a, b]) => `${a}-${b}`).join(',') : '*';
      if ('fqdn' in peer) {
        this.fqdns.push({ protocol: peer.protocol, ports, fqdn: peer.fqdn.toLowerCase() });
        continue;
      }
      const key = `${peer.protocol} ${portsKey}`;
      const group = byKey.get(key) ?? { protocol: peer.protocol, ports, portsKey, cidrs: [] };
      group.cidrs.push(peer.cidr);
      byKey.set(key, group);
    }
    for (const g of byKey.values()) this.groups.push({ ...g, cidrs: CidrSet.from(g.cidrs), sources: g.cidrs });
  }

  /** Whether a connection with this peer is allowed. */
  allows(ip: ParsedIp, port: number, protocol: Protocol, names?: FqdnIndex): boolean {
    for (const g of this.groups) {
      if ((g.protocol === 'any' || g.protocol === protocol) && portAllowed(g.ports, port) && g.cidrs.has(ip)) return true;
    }
    if (this.fqdns.length === 0 || !names) return false;
    const known = names.namesOf(ip);
    if (!known) return false;
    for (const f of this.fqdns) {
      if ((f.protocol !== 'any' && f.protocol !== protocol) || !portAllowed(f.ports, port)) continue;
      if (f.fqdn.startsWith('*.')) {
        const suffix = f.fqdn.slice(1);
        for (const n of known) if (n.endsWith(suffix)) return true;
      } else if (known.has(f.fqdn)) return true;
    }
    return false;
  }
}
