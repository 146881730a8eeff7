import { parseIp, type ParsedIp } from './cidr.ts';
import type { FqdnIndex } from './network.ts';

/** Resolves a host name to its addresses (IPv4 and IPv6); injected, so tests and the agent choose the resolver. */
export type ResolveFn = (name: string) => Promise<{ addresses: string[]; ttlSeconds?: number }>;

export interface FqdnResolverOptions {
  resolve: ResolveFn;
  now?: () => number;
  /** Refresh floor and ceiling, whatever the TTL says (default 5 s and 300 s). */
  minRefreshMs?: number;
  maxRefreshMs?: number;
  /** How long an address stays allowed after the name stopped resolving to it (clients cache answers; default 300 s). */
  graceMs?: number;
  /** Limits: names resolved and addresses kept per name (defaults 10,000 and 64). */
  maxNames?: number;
  maxAddressesPerName?: number;
  onChange?: () => void;
}

const keyOf = (ip: ParsedIp) => `${ip.family}:${ip.value}`;

/**
 * The FQDNs that profiles list, resolved by the agent and kept current: each name is looked up again when its TTL
 * runs out (within the floor and ceiling); addresses it no longer returns stay allowed for `graceMs`. Lookups by
 * address (`namesOf`) are one map read. Limits: only exact names are resolved (a `*.example.com` entry matches the
 * names the agent resolved for other entries, nothing else); a name whose lookup fails keeps its last addresses
 * until the grace runs out; beyond `maxNames` the rest are not resolved.
 */
export class FqdnResolver implements FqdnIndex {
  readonly #names = new Map<string, { next: number; addresses: Map<string, number> }>();
  readonly #byAddress = new Map<string, Set<string>>();
  readonly o: Required<Omit<FqdnResolverOptions, 'onChange'>> & Pick<FqdnResolverOptions, 'onChange'>;
  failures = 0;

  constructor(options: FqdnResolverOptions) {
    this.o = { now: Date.now, minRefreshMs: 5000, maxRefreshMs: 300_000, graceMs: 300_000, maxNames: 10_000, maxAddressesPerName: 64, ...options };
  }

  /** The names to keep resolved (wildcards are skipped); names no longer listed are forgotten. */
  setNames(names: Iterable<string>): void {
    const wanted = new Set([...names].filter((n) => !n.startsWith('*.')).slice(0, this.o.maxNames));
    for (const n of this.#names.keys()) if (!wanted.has(n)) this.#names.delete(n);
    for (const n of wanted) if (!this.#names.has(n)) this.#names.set(n, { next: 0, addresses: new Map() });
    this.#reindex();
  }

  namesOf(ip: ParsedIp): ReadonlySet<string> | undefined {
    return this.#byAddress.get(keyOf(ip));
  }

  /** Addresses a name currently stands for (for kernel policies). */
  addressesOf(name: string): string[] {
    return [...(this.#names.get(name)?.addresses.keys() ?? [])].map((k) => {
      const [family, value] = k.split(':') as [string, string];
      return family === '4' ? [24, 16, 8, 0].map((s) => (Number(value) >>> s) & 255).join('.') : bigToV6(BigInt(value));
    });
  }

  /** Resolves every name that is due; resolves when done. Call it on a timer. */
  async refresh(): Promise<void> {
    const now = this.o.now();
    let changed = false;
    await Promise.all(
      [...this.#names].filter(([, s]) => s.next <= now).map(async ([name, state]) => {
        try {
          const { addresses, ttlSeconds = 60 } = await this.o.resolve(name);
          for (const a of addresses.slice(0, this.o.maxAddressesPerName)) {
            const ip = parseIp(a);
            if (!ip) continue;
            if (!state.addresses.has(keyOf(ip))) changed = true;
            state.addresses.set(keyOf(ip), now + this.o.graceMs);
          }
          state.next = now + Math.min(this.o.maxRefreshMs, Math.max(this.o.minRefreshMs, ttlSeconds * 1000));
        } catch {
          this.failures++;
          state.next = now + this.o.minRefreshMs;
        }
        for (const [k, until] of state.addresses) if (until <= now) (state.addresses.delete(k), (changed = true));
        while (state.addresses.size > this.o.maxAddressesPerName) state.addresses.delete(state.addresses.keys().next().value!);
      }),
    );
    if (changed) {
      this.#reindex();
      this.o.onChange?.();
    }
  }

  #reindex(): void {
    this.#byAddress.clear();
    for (const [name, s] of this.#names) for (const k of s.addresses.keys()) (this.#byAddress.get(k) ?? this.#byAddress.set(k, new Set()).get(k)!).add(name);
  }
}

function bigToV6(v: bigint): string {
  const words = Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return words.join(':');
}
