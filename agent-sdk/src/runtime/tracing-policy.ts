import type { BundleRuntimeProfile } from '../../../schema/bundle.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import { parseCidr } from './cidr.ts';
import { kernelPathSets, type KernelPathSets } from './kernel-matchers.ts';
import { parsePorts } from './network.ts';

/** Tetragon allows at most this many selectors per hook. */
const MAX_SELECTORS = 5;
/** A port range up to this wide is listed port by port; a wider one drops the port filter (kernel allows more). */
const MAX_EXPANDED_PORTS = 32;
const EPERM = -1;

export const MANAGED_BY = 'palisade-agent';
export const LABEL_MANAGED = 'app.kubernetes.io/managed-by';
export const LABEL_PROFILE = 'palisade.dev/runtime-profile';
export const LABEL_NODE = 'palisade.dev/node';
export const ANNOTATION_USER_SPACE = 'palisade.dev/decided-in-user-space';

/**
 * The pods one policy object applies to: a namespace, a label selector, optionally container names, and the node
 * whose agent owns the object (each node agent keeps its own copies, limited to its node by `nodeSelector`, so no
 * agent deletes what another still needs).
 */
export interface PolicyTarget {
  namespace: string;
  matchLabels: Record<string, string>;
  containers?: string[];
  node?: string;
}

/** A label value for any node name (names may be 253 characters; label values 63). */
export const nodeLabelValue = (node: string) => (node.length <= 63 && /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(node) ? node : tracingPolicyName('node', node));

export interface CompiledTracingPolicy {
  /** A `cilium.io/v1alpha1` `TracingPolicyNamespaced`. */
  object: Record<string, unknown>;
  /** What this object leaves to user space (after the fact): rules the kernel cannot express, widened or left out. */
  userSpace: string[];
}

type Selector = Record<string, unknown>;
const actions = (mode: PolicyMode) => (mode === 'enforce' ? [{ action: 'Override', argError: EPERM }, { action: 'Post' }] : [{ action: 'Post' }]);
const pathSelectors = (sets: KernelPathSets, then: Selector[]): Selector[] =>
  (['Equal', 'Prefix', 'Postfix'] as const).filter((op) => sets[op].length > 0).map((op) => ({ matchArgs: [{ index: 0, operator: op, values: sets[op] }], matchActions: then }));

/**
 * Exec rule → `lsmhooks: bprm_check_security` on the new program's `linux_binprm` path (argument 0; `matchBinaries`
 * would match the process calling exec, not the program started). Allowed paths come first with `NoPost` (the first
 * matching selector wins), then the refusal: `Override` with EPERM in Enforce mode, `Post` only in Audit mode.
 */
function execHooks(p: BundleRuntimeProfile, mode: PolicyMode, userSpace: string[]): Selector[] {
  const ex = p.executables;
  if (!ex.enabled) return [];
  const allow = [{ action: 'NoPost' }];
  const hook = (selectors: Selector[]) => ({ hook: 'bprm_check_security', args: [{ index: 0, type: 'linux_binprm' }], selectors });
  if (ex.mode === 'allowListedOnly') {
    const allowed = kernelPathSets([...ex.executables, ...ex.exclusions], true);
    if (!allowed.complete) {
      userSpace.push('executables: allow list has entries with no literal path prefix; decided in user space only');
      return [];
    }
    if (allowed.rest.length) userSpace.push(`executables: ${allowed.rest.length} allow-list entries widened to their path prefix in the kernel`);
    return [hook([...pathSelectors(allowed.sets, allow), { matchActions: actions(mode) }])];
  }
  const excluded = kernelPathSets(ex.exclusions, true);
  if (!excluded.complete) {
    userSpace.push('executables: exclusions have entries with no literal path prefix; decided in user space only');
    return [];
  }
  const blocked = kernelPathSets(ex.executables, false);
  if (blocked.rest.length) userSpace.push(`executables: ${blocked.rest.length} block-list entries (inner masks, regexes) decided in user space only`);
  const exclusions = pathSelectors(excluded.sets, allow);
  const blocks = pathSelectors(blocked.sets, actions(mode));
  if (blocks.length === 0) return [];
  // Every hook entry repeats the exclusions before its share of the block selectors.
  const room = MAX_SELECTORS - exclusions.length;
  const hooks = [];
  for (let i = 0; i < blocks.length; i += room) hooks.push(hook([...exclusions, ...blocks.slice(i, i + room)]));
  return hooks;
}

interface PeerGroup {
  protocol: string;
  ports?: string[];
  addresses: string[];
}

function portValues(ports: readonly string[] | undefined): string[] | undefined {
  const ranges = parsePorts(ports);
  if (!ranges) return undefined;
  const out: string[] = [];
  for (const [a, b] of ranges) {
    if (b - a + 1 > MAX_EXPANDED_PORTS) return undefined;
    for (let p = a; p <= b; p++) out.push(String(p));
  }
  return [...new Set(out)];
}

/**
 * Egress rule → `kprobes: security_socket_connect` (an LSM hook Tetragon may override): connects to allowed peers
 * first with `NoPost`, grouped by protocol and ports (`SAddr`/`SPort` on the `sockaddr`, `Protocol` on the socket);
 * then any other IPv4/IPv6 connect is refused (`Override` EPERM, Enforce) or reported (`Post`, Audit). FQDNs enter
 * as the addresses the agent resolved. Beyond the selector limit groups are merged with wider ports and protocols
 * (the kernel allows more; the agent still decides on every connect event it sees).
 */
function egressProbe(p: BundleRuntimeProfile, mode: PolicyMode, resolved: (fqdn: string) => string[], userSpace: string[]): Selector[] {
  if (!p.egress.enabled) return [];
  const byKey = new Map<string, PeerGroup>();
  for (const peer of p.egress.allowed) {
    const ports = portValues(peer.ports);
    if (peer.ports?.length && !ports) userSpace.push('egress: a port range wider than 32 ports is not filtered by port in the kernel');
    const addresses = 'cidr' in peer ? [peer.cidr] : resolved(peer.fqdn.toLowerCase());
    if ('fqdn' in peer && peer.fqdn.startsWith('*.')) userSpace.push(`egress: ${peer.fqdn} is a wildcard, not resolved: the kernel refuses its addresses unless another entry allows them`);
    const key = `${peer.protocol} ${ports?.join(',') ?? '*'}`;
    const g = byKey.get(key) ?? { protocol: peer.protocol, ...(ports ? { ports } : {}), addresses: [] };
    g.addresses.push(...addresses.map((a) => (a.includes('/') ? a : `${a}/${parseCidr(a)?.family === 6 ? 128 : 32}`)));
    byKey.set(key, g);
  }
  let groups = [...byKey.values()].filter((g) => g.addresses.length > 0);
  if (groups.length > MAX_SELECTORS - 1) {
    userSpace.push('egress: more port/protocol combinations than kernel selectors; ports widened in the kernel');
    const merged = new Map<string, PeerGroup>();
    for (const g of groups) {
      const m = merged.get(g.protocol) ?? { protocol: g.protocol, addresses: [] };
      m.addresses.push(...g.addresses);
      merged.set(g.protocol, m);
    }
    groups = [...merged.values()];
    if (groups.length > MAX_SELECTORS - 1) groups = [{ protocol: 'any', addresses: groups.flatMap((g) => g.addresses) }];
  }
  const selectors: Selector[] = groups.map((g) => ({
    matchArgs: [
      { index: 1, operator: 'SAddr', values: [...new Set(g.addresses)].sort() },
      ...(g.ports ? [{ index: 1, operator: 'SPort', values: g.ports }] : []),
      ...(g.protocol !== 'any' ? [{ index: 0, operator: 'Protocol', values: [`IPPROTO_${g.protocol}`] }] : []),
    ],
    matchActions: [{ action: 'NoPost' }],
  }));
  selectors.push({ matchArgs: [{ index: 1, operator: 'Family', values: ['AF_INET', 'AF_INET6'] }], matchActions: actions(mode) });
  return [{ call: 'security_socket_connect', syscall: false, args: [{ index: 0, type: 'socket' }, { index: 1, type: 'sockaddr' }], selectors }];
}

/** Kubernetes-safe name: `palisade-<profile>-<hash>`. */
export function tracingPolicyName(profileName: string, key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  const slug = profileName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'profile';
  return `palisade-${slug}-${h.toString(16).padStart(8, '0')}`;
}

/**
 * One runtime profile, as one policy applies it in one mode to one set of pods, compiled into a Tetragon
 * `TracingPolicyNamespaced`: executables through the `bprm_check_security` LSM hook, egress through
 * `security_socket_connect`, both with `Override` in Enforce mode. Ingress is not compiled: the kernel hooks where a
 * connection is accepted cannot be overridden with the peer known (`security_socket_accept` runs before it is), so
 * ingress rules are decided in user space on accept events and never blocked. `undefined` when nothing of the profile
 * can be expressed. Pure.
 *
 * @example
 * ```ts
 * const compiled = compileTracingPolicy(profile, 'enforce', { namespace: 'shop', matchLabels: { app: 'web' }, node: 'node-1' });
 * if (compiled) await k8s.apply(compiled.object);
 * ```
 */
export function compileTracingPolicy(
  profile: BundleRuntimeProfile,
  mode: PolicyMode,
  target: PolicyTarget,
  options: { resolved?: (fqdn: string) => string[] } = {},
): CompiledTracingPolicy | undefined {
  const userSpace: string[] = [];
  const lsmhooks = execHooks(profile, mode, userSpace);
  const kprobes = egressProbe(profile, mode, options.resolved ?? (() => []), userSpace);
  if (profile.ingress.enabled) userSpace.push('ingress: decided in user space on accept events; not blocked');
  if (lsmhooks.length === 0 && kprobes.length === 0) return undefined;
  const selectorKey = JSON.stringify([profile.id, mode, target.namespace, Object.entries(target.matchLabels).sort(), target.containers ?? [], target.node ?? '']);
  const object = {
    apiVersion: 'cilium.io/v1alpha1',
    kind: 'TracingPolicyNamespaced',
    metadata: {
      name: tracingPolicyName(profile.name, selectorKey),
      namespace: target.namespace,
      labels: { [LABEL_MANAGED]: MANAGED_BY, [LABEL_PROFILE]: profile.id, ...(target.node ? { [LABEL_NODE]: nodeLabelValue(target.node) } : {}) },
      ...(userSpace.length ? { annotations: { [ANNOTATION_USER_SPACE]: userSpace.join('; ') } } : {}),
    },
    spec: {
      ...(target.node ? { nodeSelector: { matchLabels: { 'kubernetes.io/hostname': target.node } } } : {}),
      podSelector: { matchLabels: { ...target.matchLabels } },
      ...(target.containers?.length ? { containerSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: [...target.containers].sort() }] } } : {}),
      ...(lsmhooks.length ? { lsmhooks } : {}),
      ...(kprobes.length ? { kprobes } : {}),
    },
  };
  return { object, userSpace };
}
