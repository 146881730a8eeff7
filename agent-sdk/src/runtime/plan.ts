import type { Severity } from '../../../schema/audit-event.ts';
import { parseIpInto } from './cidr.ts';
import type { RuntimeDecision, RuntimeFinding } from './decide.ts';
import type { NetworkEvent, RuntimeEvent } from './event.ts';
import type { ProfileBinding } from './mapping.ts';
import { protocolSlot, type FqdnIndex } from './network.ts';
import type { CompiledProfile } from './rules.ts';

/** One policy applying one compiled profile. */
interface Entry {
  binding: ProfileBinding;
  profile: CompiledProfile;
}

const ALLOWED: RuntimeDecision = Object.freeze({ verdict: 'allowed', findings: Object.freeze([]) as unknown as RuntimeFinding[] }) as RuntimeDecision;
/** The peer of the event being decided (one at a time: JavaScript runs one at a time). */
const PEER = new Uint32Array(4);

function host(a: string): string {
  return a.includes(':') ? `[${a}]` : a;
}

function finding(e: Entry, check: RuntimeFinding['check'], message: string, severity: Severity): RuntimeFinding {
  return { policy: e.binding.policy, mode: e.binding.mode, profile: { id: e.profile.id, name: e.profile.name }, check, message, severity };
}

function decision(findings: RuntimeFinding[]): RuntimeDecision {
  let verdict: RuntimeDecision['verdict'] = 'alerted';
  for (const f of findings) if (f.mode === 'enforce') verdict = 'blocked';
  return { verdict, findings };
}

/**
 * What decides the events of one container, compiled once per container and bundle revision: the profiles bound
 * to it (every policy's, in binding order, missing profile ids dropped), split by what each can object to (an exec,
 * an egress, an ingress connection), so an event visits only the profiles with a rule for it. An allowed event
 * allocates nothing; findings (and their messages) are built only for violations.
 *
 * @example
 * ```ts
 * const plan = new ContainerPlan(rules.bindings(pod, now).get('nginx') ?? [], rules.profiles);
 * plan.decide(event, resolver).verdict; // 'allowed' | 'alerted' | 'blocked'
 * ```
 */
export class ContainerPlan {
  readonly exec: Entry[] = [];
  readonly egress: Entry[] = [];
  readonly ingress: Entry[] = [];
  /**
   * Exec decisions by binary, bounded: an exec's decision depends on the binary alone, and a container runs the
   * same few programs over and over, so a repeat costs one map read. Decisions are frozen: events share them.
   */
  readonly #execMemo = new Map<string, RuntimeDecision>();

  constructor(bindings: readonly ProfileBinding[], profiles: ReadonlyMap<string, CompiledProfile>, private readonly memoSize = 1024) {
    for (const binding of bindings)
      for (const id of binding.profileIds) {
        const profile = profiles.get(id);
        if (!profile) continue;
        if (profile.executables) this.exec.push({ binding, profile });
        if (profile.egress) this.egress.push({ binding, profile });
        if (profile.ingress) this.ingress.push({ binding, profile });
      }
  }

  /** Whether no profile applies (every event allowed). */
  get empty(): boolean {
    return this.exec.length + this.egress.length + this.ingress.length === 0;
  }

  decide(event: RuntimeEvent, names?: FqdnIndex): RuntimeDecision {
    return event.type === 'exec' ? this.#exec(event.process.binary) : this.#network(event, names);
  }

  #exec(binary: string): RuntimeDecision {
    let found = this.#execMemo.get(binary);
    if (found === undefined) {
      found = this.#decideExec(binary);
      if (this.#execMemo.size >= this.memoSize) this.#execMemo.clear();
      this.#execMemo.set(binary, found);
    }
    return found;
  }

  #decideExec(binary: string): RuntimeDecision {
    const entries = this.exec;
    if (entries.length === 0) return ALLOWED;
    let findings: RuntimeFinding[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const rule = e.profile.executables!;
      if (!rule.violates(binary)) continue;
      const how = rule.mode === 'blockListed' ? 'is block-listed' : 'is not allow-listed';
      (findings ??= []).push(Object.freeze(finding(e, 'containerRuntimeProfiles.executables', `executable ${binary} ${how} by runtime profile "${e.profile.name}"`, 'high')));
    }
    return findings ? Object.freeze(decision(Object.freeze(findings) as RuntimeFinding[])) : ALLOWED;
  }

  #network(event: NetworkEvent, names: FqdnIndex | undefined): RuntimeDecision {
    const egress = event.direction === 'egress';
    const entries = egress ? this.egress : this.ingress;
    if (entries.length === 0) return ALLOWED;
    // Listed ports are the service's: the peer's for egress, the container's own (the local port) for ingress.
    const port = egress ? event.remote.port : (event.local?.port ?? -1);
    // Parsed once per event, into scratch words; an unparsable peer is allowed by no rule.
    const family = parseIpInto(event.remote.address, PEER);
    const slot = protocolSlot(event.protocol);
    let findings: RuntimeFinding[] | undefined;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const rule = egress ? e.profile.egress! : e.profile.ingress!;
      if (family !== 0 && rule.allowsIp(family, PEER, port, slot, event.protocol, names)) continue;
      const what = egress
        ? `connection to ${host(event.remote.address)}:${port}/${event.protocol}`
        : `connection from ${host(event.remote.address)} to port ${port}/${event.protocol}`;
      (findings ??= []).push(finding(e, `containerRuntimeProfiles.${event.direction}`, `${what} is not allowed by runtime profile "${e.profile.name}"`, egress ? 'high' : 'medium'));
    }
    return findings ? decision(findings) : ALLOWED;
  }
}

/** A plan with nothing to check. */
export const EMPTY_PLAN = new ContainerPlan([], new Map());
