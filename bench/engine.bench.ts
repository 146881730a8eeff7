import { compiledBundle, evaluate } from '../agent-sdk/src/engine/index.ts';
import { BUNDLE_API_VERSION, BundleContentV1 } from '../schema/bundle.ts';
import { fmt, median, percentile, report } from './stats.ts';

const id = (space: number, i: number) => `${space.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const digest = (i: number) => `sha256:${i.toString(16).padStart(64, '0')}`;

/** 50 enabled policies, mixing every admission section, scopes and exclusions, as a busy tenant would have them. */
function policies() {
  const sections = [
    { registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library', 'registry.example.com:5000'] } },
    { limitContainerPrivileges: { enabled: true, preset: 'baseline' } },
    { limitContainerPrivileges: { enabled: true, preset: 'restricted' } },
    { limitContainerPrivileges: { enabled: true, settings: ['privileged', 'hostPID', 'runAsRoot', 'hostPathVolumes', 'unconfinedSeccomp'] } },
    { capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN', 'NET_ADMIN', 'cap_sys_ptrace'] } },
    { volumesBlocked: { enabled: true, paths: ['/etc', '/var/run/docker.sock', '/proc'] } },
    { bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'cpuLimitsSet', 'memoryLimitsSet'] } },
    { blockUnregisteredImages: { enabled: true }, blockNonCompliantImages: { enabled: true } },
    { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'shop' }, profileIds: [id(3, 1)] }, { imageUrlTemplates: ['ghcr.io/acme/**', 'redis:*'], profileIds: [id(3, 2)] }] } },
    { registriesAllowed: { enabled: true, registries: ['quay.io'] }, exclusions: { enabled: true, items: [{ kind: 'Namespace', name: 'kube-*' }, { kind: 'Image', name: 'quay.io/**' }] } },
  ];
  const scopes = [[], [{ type: 'cluster', cluster: 'prod-*' }], [{ type: 'namespace', cluster: '*', namespace: 'shop*' }]];
  return Array.from({ length: 50 }, (_, i) => ({
    name: `policy-${i}`,
    id: id(1, i + 1),
    revision: 1,
    mode: i % 3 === 0 ? 'enforce' : 'audit',
    ...sections[i % sections.length],
    scopes: [{ id: id(2, i + 1), name: `scope-${i}`, global: i % 3 === 0, resources: scopes[i % 3] }],
  }));
}

export function bundle(): BundleContentV1 {
  const images = Array.from({ length: 500 }, (_, i) => ({ reference: `ghcr.io/acme/svc-${i % 100}`, digest: digest(i + 1), tags: [`1.${i}`], compliance: i % 5 ? 'compliant' : 'nonCompliant' }));
  images.push({ reference: 'ghcr.io/acme/shop', digest: digest(9999), tags: ['2.4.1'], compliance: 'compliant' });
  return BundleContentV1.parse({
    apiVersion: BUNDLE_API_VERSION,
    tenantId: id(9, 1),
    cluster: { id: id(8, 1), name: 'prod-eu' },
    policies: policies(),
    runtimeProfiles: [{ id: id(3, 1), name: 'web' }, { id: id(3, 2), name: 'acme' }],
    signatureValidators: [],
    images,
    registries: [],
    fileThreatProtection: null,
  });
}

const securityContext = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const resources = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } };
/** A realistic three-container pod: app, sidecar proxy and init migration, with probes, volumes and labels. */
export const POD = JSON.stringify({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'shop-7d4b9c8f5-x2x9q', namespace: 'shop', labels: { app: 'shop', tier: 'web', 'pod-template-hash': '7d4b9c8f5' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'shop-7d4b9c8f5', controller: true }] },
  spec: {
    securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
    initContainers: [{ name: 'migrate', image: 'ghcr.io/acme/shop:2.4.1', command: ['/migrate'], resources, securityContext }],
    containers: [
      { name: 'shop', image: 'ghcr.io/acme/shop:2.4.1', ports: [{ containerPort: 8080 }], resources, securityContext, livenessProbe: { httpGet: { path: '/healthz', port: 8080 } }, volumeMounts: [{ name: 'config', mountPath: '/etc/shop' }, { name: 'tmp', mountPath: '/tmp' }] },
      { name: 'proxy', image: `docker.io/library/envoy:1.30@${digest(42)}`, ports: [{ containerPort: 9901 }], resources, securityContext: { ...securityContext, capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } },
    ],
    volumes: [{ name: 'config', configMap: { name: 'shop' } }, { name: 'tmp', emptyDir: {} }, { name: 'token', projected: { sources: [] } }],
  },
});

/** Latency samples of several functions, interleaved call by call, so that a noisy machine slows them alike. */
function samples(n: number, fns: Array<() => unknown>): number[][] {
  const out = fns.map(() => new Array<number>(n));
  for (let i = 0; i < n; i++)
    for (let f = 0; f < fns.length; f++) {
      const start = performance.now();
      fns[f]!();
      out[f]![i] = (performance.now() - start) * 1000;
    }
  return out;
}

function perSecond(fn: () => unknown, ms = 1500): number {
  let count = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) for (let i = 0; i < 100; i++, count++) fn();
  return (count * 1000) / ms;
}

/**
 * Decision latency and throughput on one core (this thread), against JSON.parse of the same pod as the baseline:
 * the compiled evaluator (what the webhook and the CLI run: the bundle revision compiled once) and `evaluate`, the
 * reference implementation it must agree with.
 */
export async function benchEngine(): Promise<void> {
  const content = bundle();
  const pod = JSON.parse(POD) as unknown;
  const options = { now: new Date('2026-06-01T00:00:00Z'), bundleRevision: 1 };
  const compileStart = performance.now();
  const compiled = compiledBundle(content);
  const compileMs = performance.now() - compileStart;
  const run = () => compiled.evaluate({ object: pod, namespace: 'shop' }, options);
  const reference = () => evaluate(content, { object: pod, namespace: 'shop' }, options);
  const parse = () => JSON.parse(POD);
  const decision = run();
  for (let i = 0; i < 5000; i++) (run(), reference(), parse());
  const N = 20_000;
  const [latency, base, ref, both] = samples(N, [run, parse, reference, () => compiled.evaluate({ object: JSON.parse(POD), namespace: 'shop' }, options)]) as [number[], number[], number[], number[]];
  const rate: number[] = [];
  const baseRate: number[] = [];
  for (let i = 0; i < 3; i++) (rate.push(perSecond(run)), baseRate.push(perSecond(parse)));
  const row = (xs: number[]) => `p50 ${fmt(percentile(xs, 50))} µs, p99 ${fmt(percentile(xs, 99))} µs`;
  const vs = (xs: number[]) => `p50 ${fmt(percentile(xs, 50) / percentile(base, 50), 1)}x, p99 ${fmt(percentile(xs, 99) / percentile(base, 99), 1)}x the baseline's`;
  report(`Admission engine: 3-container pod, 50 enabled policies (${decision.policies.filter((p) => p.status === 'applied').length} applied, ${decision.findings.length} findings, ${compiled.distinctChecks} distinct checks), ${N} interleaved samples`, [
    ['compiled evaluator (webhook, CLI)', `${row(latency)} = ${vs(latency)}`],
    ['evaluate (reference)', `${row(ref)} = ${vs(ref)}`],
    ['JSON.parse + compiled evaluator', row(both)],
    ['baseline: JSON.parse of the pod', `${row(base)} (${(POD.length / 1024).toFixed(1)} KiB)`],
    ['compiling the bundle (once per revision)', `${fmt(compileMs)} ms`],
    ['decisions per second, one core (median of 3)', `${fmt(median(rate), 0)}/s`],
    ['baseline: JSON.parse per second', `${fmt(median(baseRate), 0)}/s`],
  ]);
}
