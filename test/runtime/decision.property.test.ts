import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUNDLE_API_VERSION, BundleContentV1 } from '../../schema/bundle.ts';
import { matchesMask } from '../../schema/masks.ts';
import { parseCidr, parseIp, type ParsedIp } from '../../agent-sdk/src/runtime/cidr.ts';
import type { RuntimeEvent } from '../../agent-sdk/src/runtime/event.ts';
import { evaluateRuntimeEvent } from '../../agent-sdk/src/runtime/evaluator.ts';
import { profileBindings, type PodInfo } from '../../agent-sdk/src/runtime/mapping.ts';
import type { FqdnIndex } from '../../agent-sdk/src/runtime/network.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { RuntimeRules } from '../../agent-sdk/src/runtime/rules.ts';

/**
 * The node agent decides through compiled per-container plans (merged CIDR ranges with port bitsets, tries, joined
 * regexes, memos). Here the same bundles and events are decided the slow way, straight from the profile sources:
 * every peer and every matcher tested one by one, CIDRs as bit-string prefixes. Both must agree on every finding.
 */
const id = (space: number, i: number) => `${space.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

const BINARIES = ['/usr/bin/curl', '/usr/bin/nc', '/bin/sh', '/tmp/x.sh', '/opt/app/run', '/opt/app/bin/run', '/srv/a/b', '/usr/local/bin/nc'];
const MATCHERS = [
  { path: '/usr/bin/curl' }, { path: '/usr/bin/*' }, { path: '/*nc' }, { path: '/opt/*/run' }, { path: '/*/bin/*' }, { path: '/tmp/*' },
  { regex: '^/tmp/.*\\.sh$' }, { regex: '(^|/)nc$' }, { regex: '^/(bin|sbin)/' }, { regex: '^/srv/(a)/\\1?b' },
];
const ADDRESSES = ['10.0.0.1', '10.1.2.3', '10.255.255.255', '192.168.1.10', '203.0.113.7', '2001:db8::1', '2001:db8:1::5', '::ffff:10.0.0.9', 'fe80::1', 'not-an-ip'];
const CIDRS = ['10.0.0.0/8', '10.0.0.0/24', '10.1.0.0/16', '192.168.1.0/28', '203.0.113.7/32', '2001:db8::/32', '2001:db8:1::/48', '0.0.0.0/0', '::/0'];
const PORTS = [['443'], ['80', '443'], ['8000-8080'], ['53'], undefined];
const FQDNS = ['api.example.com', '*.example.com', 'other.test'];
/** The agent's resolution, fixed: which names each address is known by. */
const RESOLVED: Record<string, string[]> = { '203.0.113.7': ['api.example.com'], '2001:db8::1': ['www.example.com', 'other.test'] };

const peer = fc.record({
  target: fc.oneof(fc.constantFrom(...CIDRS).map((cidr) => ({ cidr })), fc.constantFrom(...FQDNS).map((fqdn) => ({ fqdn }))),
  ports: fc.constantFrom(...PORTS),
  protocol: fc.constantFrom('TCP', 'UDP', 'SCTP', 'any'),
}).map(({ target, ports, protocol }) => ({ ...target, ...(ports ? { ports } : {}), protocol }));
const network = fc.record({ enabled: fc.boolean(), allowed: fc.array(peer, { maxLength: 8 }) });
const profile = fc.record({
  executables: fc.record({
    enabled: fc.boolean(),
    mode: fc.constantFrom('blockListed', 'allowListedOnly'),
    executables: fc.subarray(MATCHERS, { maxLength: 5 }),
    exclusions: fc.subarray(MATCHERS, { maxLength: 2 }),
  }),
  egress: network,
  ingress: network,
});
const policy = fc.record({ mode: fc.constantFrom('audit', 'enforce'), mappings: fc.array(fc.record({ app: fc.constantFrom('a', 'b'), profiles: fc.subarray([0, 1, 2], { minLength: 1 }) }), { minLength: 1, maxLength: 2 }) });
const event = fc.record({
  pod: fc.constantFrom(0, 1, 2),
  container: fc.constantFrom('main', 'side', ''),
  kind: fc.constantFrom('exec', 'network'),
  binary: fc.constantFrom(...BINARIES),
  address: fc.constantFrom(...ADDRESSES),
  port: fc.constantFrom(443, 53, 8080, 22),
  localPort: fc.option(fc.constantFrom(443, 53, 8080), { nil: undefined }),
  protocol: fc.constantFrom('TCP', 'UDP', 'SCTP'),
  direction: fc.constantFrom('egress', 'ingress'),
});

const PODS: PodInfo[] = ['a', 'b', 'c'].map((app, i) => ({ namespace: 'shop', name: `web-${i}`, labels: { app }, owners: [], containers: [{ name: 'main', image: 'nginx:1' }, { name: 'side', image: 'envoy:1' }] }));

const bits = (ip: ParsedIp) => ip.value.toString(2).padStart(ip.family === 4 ? 32 : 128, '0');
function inCidr(ip: ParsedIp, cidr: string): boolean {
  const r = parseCidr(cidr)!;
  if (r.family !== ip.family) return false;
  const len = (r.family === 4 ? 32 : 128) - (r.end - r.start).toString(2).replace(/^0$/, '').length;
  return bits({ family: r.family, value: r.start } as ParsedIp).slice(0, len) === bits(ip).slice(0, len);
}
const portIn = (ports: string[] | undefined, port: number) =>
  !ports || ports.some((p) => {
    const [a, b = a] = p.split('-').map(Number) as [number, number?];
    return port >= a && port <= b;
  });
const matches = (m: { path: string } | { regex: string }, path: string) => ('path' in m ? matchesMask(m.path, path) : new RegExp(m.regex, 'u').test(path));

/** The reference: findings as `policy profile check mode severity`, in order. */
function reference(bundle: BundleContentV1, pod: PodInfo, e: RuntimeEvent, names: FqdnIndex): string[] {
  const byContainer = profileBindings(bundle, pod, new Date(0));
  const bindings = e.container.container ? (byContainer.get(e.container.container) ?? []) : [...byContainer.values()].flat();
  const out: string[] = [];
  for (const b of bindings)
    for (const pid of b.profileIds) {
      const p = bundle.runtimeProfiles.find((x) => x.id === pid)!;
      if (e.type === 'exec') {
        const x = p.executables;
        if (!x.enabled) continue;
        const binary = e.process.binary;
        const listed = x.executables.some((m) => matches(m, binary));
        const violates = !x.exclusions.some((m) => matches(m, binary)) && (x.mode === 'blockListed' ? listed : !listed);
        if (violates) out.push(`${b.policy.id} ${p.id} containerRuntimeProfiles.executables ${b.mode} high`);
        continue;
      }
      const rule = e.direction === 'egress' ? p.egress : p.ingress;
      if (!rule.enabled) continue;
      const port = e.direction === 'egress' ? e.remote.port : (e.local?.port ?? -1);
      const ip = parseIp(e.remote.address);
      const known = ip ? names.namesOf(ip) : undefined;
      const allowed =
        ip !== undefined &&
        rule.allowed.some((a) => {
          if ((a.protocol !== 'any' && a.protocol !== e.protocol) || !portIn(a.ports, port)) return false;
          if ('cidr' in a) return inCidr(ip, a.cidr);
          const f = a.fqdn.toLowerCase();
          return [...(known ?? [])].some((n) => (f.startsWith('*.') ? n.endsWith(f.slice(1)) : n === f));
        });
      if (!allowed) out.push(`${b.policy.id} ${p.id} containerRuntimeProfiles.${e.direction} ${b.mode} ${e.direction === 'egress' ? 'high' : 'medium'}`);
    }
  return out;
}

describe('compiled decisions against the slow reference', () => {
  const names: FqdnIndex = {
    namesOf: (ip) => {
      const hit = Object.entries(RESOLVED).find(([a]) => {
        const r = parseIp(a)!;
        return r.family === ip.family && r.value === ip.value;
      });
      return hit ? new Set(hit[1]) : undefined;
    },
  };

  it('every finding, verdict and order agree on generated profiles, policies and events', () => {
    fc.assert(
      fc.property(fc.array(profile, { minLength: 3, maxLength: 3 }), fc.array(policy, { minLength: 1, maxLength: 3 }), fc.array(event, { minLength: 1, maxLength: 40 }), (profiles, policies, events) => {
        const bundle = BundleContentV1.parse({
          apiVersion: BUNDLE_API_VERSION, tenantId: id(9, 1), cluster: { id: id(8, 1), name: 'prod' },
          policies: policies.map((p, i) => ({
            id: id(1, i + 1), name: `policy-${i}`, revision: 1, mode: p.mode,
            scopes: [{ id: id(2, i + 1), name: 's', global: true, resources: [] }],
            containerRuntimeProfiles: { enabled: true, mappings: p.mappings.map((m) => ({ podLabels: { app: m.app }, profileIds: m.profiles.map((k) => id(3, k + 1)) })) },
          })),
          runtimeProfiles: profiles.map((p, i) => ({ id: id(3, i + 1), name: `profile-${i}`, ...p })),
          signatureValidators: [], images: [], registries: [], fileThreatProtection: null,
        });
        const rules = new RuntimeRules(bundle, 1);
        const cache = new PodCache();
        for (const p of PODS.slice(0, 2)) cache.set(p); // the third pod is known only from the sensor's report
        // Twice over: the second pass runs on cached plans and warm memos.
        for (const e of [...events, ...events]) {
          const pod = PODS[e.pod]!;
          const container = { namespace: pod.namespace, pod: pod.name, container: e.container, labels: pod.labels, image: 'nginx:1' };
          const process = { pid: 7, binary: e.binary, args: '' };
          const ev: RuntimeEvent =
            e.kind === 'exec'
              ? { type: 'exec', sensor: 'tetragon', time: 't', container, process }
              : {
                  type: 'network', sensor: 'tetragon', time: 't', container, process, direction: e.direction, protocol: e.protocol, family: e.address.includes(':') ? 6 : 4,
                  remote: { address: e.address, port: e.port }, ...(e.localPort !== undefined ? { local: { address: '10.9.9.9', port: e.localPort } } : {}),
                };
          // A sensor-reported pod has only the container it reported.
          const asSeen = e.pod < 2 ? pod : { ...pod, containers: [{ name: e.container, image: 'nginx:1' }] };
          const expected = reference(bundle, asSeen, ev, names);
          const decision = evaluateRuntimeEvent(ev, rules, new Date(0), cache, names);
          const got = decision.findings.map((f) => `${f.policy.id} ${f.profile.id} ${f.check} ${f.mode} ${f.severity}`);
          expect(got, JSON.stringify(ev)).toEqual(expected);
          expect(decision.verdict).toBe(expected.length === 0 ? 'allowed' : expected.some((f) => f.includes(' enforce ')) ? 'blocked' : 'alerted');
        }
      }),
      { numRuns: 300 },
    );
  });
});
