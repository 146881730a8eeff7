import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compiledBundle, CompiledBundle } from '../../agent-sdk/src/engine/compiled/index.ts';
import { evaluate, type AdmissionInput, type Decision, type EvaluateOptions } from '../../agent-sdk/src/engine/index.ts';
import type { BundleContentV1 } from '../../schema/bundle.ts';
import { auditWarnings, denialMessage, notEnforcedLines } from '../../agent-sdk/src/webhook/messages.ts';
import { buildBundle, fakeId, type CompactPolicy } from './support/bundle.ts';
import { PSA_DIR, readObjects, yamlFiles } from './support/fixtures.ts';

/**
 * The compiled evaluator decides exactly as `evaluate`, the reference: the same decision document, byte for byte as
 * JSON (verdict, findings with their policy, mode, container, image and message, in order; policy results and rules;
 * runtime profiles; sections not enforced; malformed fields; the denial message), and so the same webhook answer.
 */
function same(bundle: BundleContentV1, input: AdmissionInput, options: EvaluateOptions, compiled: CompiledBundle = new CompiledBundle(bundle)): Decision {
  const reference = evaluate(bundle, input, options);
  const decision = compiled.evaluate(input, options);
  expect(JSON.stringify(decision)).toBe(JSON.stringify(reference));
  expect(decision).toStrictEqual(reference);
  expect(decision.message).toBe(reference.message);
  expect(denialMessage(decision)).toBe(denialMessage(reference));
  expect(auditWarnings(decision, notEnforcedLines(decision))).toEqual(auditWarnings(reference, notEnforcedLines(reference)));
  return decision;
}

const NOW = new Date('2026-06-01T00:00:00Z');

// Small pools, so that generated bundles share check configurations (what the compiled bundle deduplicates) and
// generated pods hit them.
const IMAGES = [
  'ghcr.io/acme/shop:2.4.1', 'ghcr.io/acme/shop', 'nginx', 'nginx:latest', 'docker.io/library/envoy:1.30@sha256:' + '4'.repeat(64),
  'quay.io/x/web:1', 'registry.example.com:5000/a/b:3', 'ghcr.io/acme/svc-1:1.1', 'Not A Ref', '', 'redis:7',
];
const PATHS = ['/etc', '/etc/ssh', '/var/run/docker.sock', '/proc', '/', '/var/run/../etc', '/proc/1/root/etc', '/data', '/run/containerd', '/usr/lib'];
const CAPS = ['SYS_ADMIN', 'NET_ADMIN', 'NET_RAW', 'ALL', 'CHOWN', 'NET_BIND_SERVICE', 'cap_sys_ptrace', 'KILL'];
const MASKS = ['*', 'shop*', 'kube-*', 'default', 'prod-*', 'test-cluster', 'other'];

const sections = fc.oneof(
  fc.constantFrom<Record<string, unknown>>(
    { registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library'] } },
    { registriesAllowed: { enabled: true, registries: [] } },
    { limitContainerPrivileges: { enabled: true, preset: 'baseline' } },
    { limitContainerPrivileges: { enabled: true, preset: 'restricted' } },
    { limitContainerPrivileges: { enabled: true, preset: 'restricted', settings: ['runAsRoot', 'unconfinedAppArmor'] } },
    { limitContainerPrivileges: { enabled: true, settings: ['privileged', 'hostPID', 'runAsRoot', 'hostPathVolumes', 'unconfinedSeccomp', 'addedCapabilities', 'customSELinuxOptions', 'windowsHostProcess', 'hostPorts'] } },
    { capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN', 'NET_ADMIN'] } },
    { volumesBlocked: { enabled: true, paths: ['/etc', '/var/run/docker.sock'] } },
    { bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'cpuLimitsSet', 'memoryLimitsSet', 'imageDigestPinned'] } },
    { blockUnregisteredImages: { enabled: true }, blockNonCompliantImages: { enabled: true } },
    { imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId: fakeId(7, 1) }, { registryUrlTemplate: 'nginx:*', verify: false }] } },
    { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'shop' }, profileIds: ['web'] }, { imageUrlTemplates: ['ghcr.io/acme/**', 'redis:*'], profileIds: ['acme', 'web'] }] } },
    { fileThreatProtection: { enabled: true } },
  ),
  fc.record({ registriesAllowed: fc.record({ enabled: fc.boolean(), registries: fc.subarray(['ghcr.io/acme', 'quay.io', 'docker.io/nginx', 'registry.example.com:5000', 'docker.io']) }) }),
  fc.record({ capabilitiesBlock: fc.record({ enabled: fc.constant(true), capabilities: fc.subarray(CAPS) }) }),
  fc.record({ volumesBlocked: fc.record({ enabled: fc.constant(true), paths: fc.subarray(PATHS) }) }),
  fc.record({
    limitContainerPrivileges: fc.record(
      { enabled: fc.boolean(), preset: fc.constantFrom('baseline', 'restricted'), settings: fc.subarray(['privileged', 'hostNetwork', 'hostIPC', 'allowPrivilegeEscalation', 'unmaskedProcMount', 'unsafeSysctls', 'unconfinedAppArmor', 'runAsRoot']) },
      { requiredKeys: ['enabled', 'settings'] },
    ),
  }),
);

const exclusion = fc.oneof(
  fc.record({ kind: fc.constant('Namespace'), name: fc.constantFrom(...MASKS) }),
  fc.record({ kind: fc.constant('Image'), name: fc.constantFrom('quay.io/**', 'nginx', 'ghcr.io/acme/*', '**'), namespace: fc.constantFrom(...MASKS) }, { requiredKeys: ['kind', 'name'] }),
  fc.record(
    { kind: fc.constantFrom('Pod', 'Deployment', 'ReplicaSet', 'CronJob'), name: fc.constantFrom('shop*', 'web', '*', 'shop-7d4b9c8f5'), namespace: fc.constantFrom(...MASKS) },
    { requiredKeys: ['kind', 'name'] },
  ),
).chain((e) => fc.record({ e: fc.constant(e), expiresAt: fc.option(fc.constantFrom('2026-05-01T00:00:00Z', '2026-06-01T00:00:00Z', '2027-01-01T00:00:00Z'), { nil: undefined }) }))
  .map(({ e, expiresAt }) => (expiresAt ? { ...e, expiresAt } : e));

const scope = fc.oneof(
  fc.constant<'global'>('global'),
  fc.array(
    fc.oneof(
      fc.record({ type: fc.constant('cluster'), cluster: fc.constantFrom(...MASKS) }),
      fc.record({ type: fc.constant('namespace'), cluster: fc.constantFrom(...MASKS), namespace: fc.constantFrom(...MASKS) }),
      fc.constant({ type: 'registry', registry: 'ghcr.io/acme' }),
    ),
    { minLength: 1, maxLength: 3 },
  ),
);

const policy = fc
  .record({
    mode: fc.constantFrom<'audit' | 'enforce'>('audit', 'enforce'),
    enabled: fc.constantFrom(true, true, true, false),
    sections: fc.array(sections, { minLength: 1, maxLength: 3 }),
    scopes: fc.array(scope, { minLength: 1, maxLength: 2 }),
    exclusions: fc.option(fc.record({ enabled: fc.boolean(), items: fc.array(exclusion, { maxLength: 3 }) }), { nil: undefined }),
  })
  .map(({ mode, enabled, sections: parts, scopes, exclusions }) => ({ mode, enabled, scopes, ...(Object.assign({}, ...parts) as Record<string, unknown>), ...(exclusions ? { exclusions } : {}) }));

const bundleSpec = fc.array(policy, { minLength: 1, maxLength: 12 }).map((policies) => {
  const named = policies.map((p, i) => ({ ...p, name: `policy-${i}` }) as CompactPolicy);
  const images = [
    { reference: 'ghcr.io/acme/shop', digest: 'sha256:' + '9'.repeat(64), tags: ['2.4.1'], compliance: 'compliant' },
    { reference: 'ghcr.io/acme/shop', digest: 'sha256:' + '8'.repeat(64), tags: ['latest'], compliance: 'nonCompliant', why: 'CVE-2026-1' },
    { reference: 'docker.io/library/nginx', digest: 'sha256:' + '7'.repeat(64), tags: ['latest'], compliance: 'compliant', compliantUntil: '2026-05-15T00:00:00Z' },
    { reference: 'docker.io/library/redis', digest: 'sha256:' + '6'.repeat(64), tags: ['7'], compliance: 'notScanned' },
  ];
  return buildBundle({ policies: named, runtimeProfiles: ['web', 'acme'], images }).bundle;
});

const securityContext = fc.record(
  {
    privileged: fc.boolean(),
    allowPrivilegeEscalation: fc.boolean(),
    runAsNonRoot: fc.oneof(fc.boolean(), fc.constant(null)),
    runAsUser: fc.constantFrom(0, 1000),
    procMount: fc.constantFrom('Default', 'Unmasked'),
    capabilities: fc.record({ add: fc.subarray(CAPS), drop: fc.subarray(['ALL', ...CAPS]) }, { requiredKeys: [] }),
    seccompProfile: fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined', 'Localhost') }),
    appArmorProfile: fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') }),
    seLinuxOptions: fc.record({ type: fc.constantFrom('container_t', 'spc_t'), user: fc.constantFrom('', 'root') }, { requiredKeys: [] }),
    windowsOptions: fc.record({ hostProcess: fc.boolean() }),
  },
  { requiredKeys: [] },
);

const container = (i: number) =>
  fc.record(
    {
      name: fc.constantFrom(`c${i}`, 'app', 'shop'),
      image: fc.constantFrom(...IMAGES),
      securityContext,
      resources: fc.record({ requests: fc.record({ cpu: fc.constantFrom('100m', '') }, { requiredKeys: [] }), limits: fc.record({ cpu: fc.constant('1'), memory: fc.constant('1Gi') }, { requiredKeys: [] }) }, { requiredKeys: [] }),
      ports: fc.array(fc.record({ containerPort: fc.constant(80), hostPort: fc.constantFrom(0, 8080) }, { requiredKeys: ['containerPort'] }), { maxLength: 2 }),
      volumeMounts: fc.array(fc.record({ name: fc.constantFrom('host', 'config', 'other', 'dev'), mountPath: fc.constant('/m') }), { maxLength: 2 }),
      livenessProbe: fc.record({ httpGet: fc.record({ host: fc.constantFrom('', '10.0.0.1') }) }),
    },
    { requiredKeys: ['name', 'image'] },
  );

const podSpec = fc.record(
  {
    containers: fc.tuple(container(0), container(1), container(2)).chain(([a, b, c]) => fc.subarray([a, b, c], { minLength: 1 })),
    initContainers: fc.array(container(9), { maxLength: 1 }),
    ephemeralContainers: fc.array(container(8), { maxLength: 1 }),
    volumes: fc.array(
      fc.oneof(
        fc.record({ name: fc.constantFrom('host', 'dev', 'x'), hostPath: fc.record({ path: fc.constantFrom(...PATHS, '/proc/self/cwd', '/var/lib/x') }) }),
        fc.record({ name: fc.constantFrom('config', 'other'), configMap: fc.constant({ name: 'c' }) }),
        fc.record({ name: fc.constant('nfs'), nfs: fc.constant({ server: 'x', path: '/' }) }),
      ),
      { maxLength: 3 },
    ),
    hostNetwork: fc.boolean(),
    hostPID: fc.boolean(),
    hostUsers: fc.boolean(),
    os: fc.record({ name: fc.constantFrom('linux', 'windows') }),
    securityContext: fc.record(
      { runAsNonRoot: fc.boolean(), runAsUser: fc.constantFrom(0, 1000), seccompProfile: fc.record({ type: fc.constantFrom('RuntimeDefault', 'Unconfined') }), sysctls: fc.array(fc.record({ name: fc.constantFrom('kernel.shm_rmid_forced', 'kernel.msgmax') }), { maxLength: 2 }) },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['containers'] },
);

const metadata = fc.record(
  {
    name: fc.constantFrom('shop-7d4b9c8f5-x2x9q', 'web', 'shop'),
    namespace: fc.constantFrom('shop', 'kube-system', 'default'),
    labels: fc.record({ app: fc.constantFrom('shop', 'web'), 'pod-template-hash': fc.constant('7d4b9c8f5') }, { requiredKeys: [] }),
    annotations: fc.record({ 'container.apparmor.security.beta.kubernetes.io/app': fc.constantFrom('runtime/default', 'unconfined'), 'container.apparmor.security.beta.kubernetes.io/gone': fc.constant('unconfined') }, { requiredKeys: [] }),
    ownerReferences: fc.array(fc.record({ kind: fc.constantFrom('ReplicaSet', 'Job'), name: fc.constantFrom('shop-7d4b9c8f5', 'web') }), { maxLength: 1 }),
  },
  { requiredKeys: [] },
);

/** A Pod, or the same pod template in a Deployment or CronJob; sometimes with a field of the wrong type. */
const object = fc
  .record({ kind: fc.constantFrom('Pod', 'Pod', 'Deployment', 'CronJob', 'ConfigMap'), metadata, spec: podSpec, malformed: fc.constantFrom(undefined, undefined, undefined, 'privileged', 'containers', 'labels', 'port') })
  .map(({ kind, metadata, spec, malformed }) => {
    const s = structuredClone(spec) as Record<string, unknown> & { containers: Array<Record<string, unknown>> };
    const m = structuredClone(metadata) as Record<string, unknown>;
    if (malformed === 'privileged') s.containers[0]!.securityContext = { privileged: 'true' };
    if (malformed === 'containers') s.containers = { app: s.containers[0] } as never;
    if (malformed === 'labels') m.labels = { app: 1 };
    if (malformed === 'port') s.containers[0]!.ports = [{ hostPort: 1.5 }];
    if (kind === 'Pod' || kind === 'ConfigMap') return { apiVersion: 'v1', kind, metadata: m, spec: s };
    const template = { metadata: { labels: m.labels, annotations: m.annotations }, spec: s };
    const top = { name: m.name, namespace: m.namespace, ownerReferences: m.ownerReferences };
    return kind === 'Deployment' ? { apiVersion: 'apps/v1', kind, metadata: top, spec: { template } } : { apiVersion: 'batch/v1', kind, metadata: top, spec: { jobTemplate: { spec: { template } } } };
  });

const input = fc.record(
  {
    object,
    namespace: fc.constantFrom('shop', 'kube-system', 'shop-2'),
    cluster: fc.constantFrom('prod-eu', 'test-cluster'),
    requester: fc.constantFrom('system:serviceaccount:kube-system:replicaset-controller', 'alice'),
    owners: fc.array(fc.record({ kind: fc.constantFrom('Deployment', 'CronJob'), name: fc.constantFrom('shop', 'web') }), { maxLength: 1 }),
    signatures: fc.constant(new Map([[`ghcr.io/acme/shop:2.4.1\u0000${fakeId(7, 1)}`, { status: 'verified' as const, digest: 'sha256:' + '9'.repeat(64), format: 'bundle' as const }]])),
  },
  { requiredKeys: ['object'] },
);

describe('compiled evaluator', () => {
  it('decides as evaluate on generated bundles and pods (one compiled bundle, many pods)', () => {
    let denied = 0;
    let shared = 0;
    fc.assert(
      fc.property(bundleSpec, fc.array(input, { minLength: 1, maxLength: 4 }), fc.constantFrom(NOW, new Date('2026-05-15T00:00:00Z')), (bundle, inputs, now) => {
        const compiled = compiledBundle(bundle);
        if (compiled.distinctChecks < bundle.policies.reduce((n, p) => n + (p.enabled ? 1 : 0), 0)) shared++;
        for (const i of inputs) if (!same(bundle, i as AdmissionInput, { now, bundleRevision: 3 }, compiled).allowed) denied++;
      }),
      { numRuns: 400 },
    );
    // The generators reach what matters: denials, and bundles whose policies share checks.
    expect(denied).toBeGreaterThan(50);
    expect(shared).toBeGreaterThan(20);
  });

  it('decides as evaluate on the admission corpus', () => {
    const files = yamlFiles(join(import.meta.dirname, 'corpus'));
    let cases = 0;
    for (const file of files) {
      const spec = readObjects(file)[0] as unknown as { policies: CompactPolicy[]; now?: string; cases: Array<{ object: unknown; namespace?: string; cluster?: string; owners?: never; requester?: string; now?: string }> };
      const { bundle } = buildBundle(spec as never);
      const compiled = new CompiledBundle(bundle);
      for (const c of spec.cases) {
        const now = new Date(c.now ?? spec.now ?? '2026-06-01T00:00:00Z');
        same(bundle, { object: c.object, namespace: c.namespace, cluster: c.cluster, owners: c.owners, requester: c.requester }, { now, bundleRevision: 7 }, compiled);
        cases++;
      }
    }
    expect(cases, basename(files[0]!)).toBeGreaterThanOrEqual(80);
  });

  it('decides as evaluate on the Pod Security Admission fixtures, under both presets and modes', () => {
    let n = 0;
    for (const preset of ['baseline', 'restricted'] as const)
      for (const mode of ['audit', 'enforce'] as const) {
        const { bundle } = buildBundle({ policies: [{ name: `pss-${preset}`, mode, limitContainerPrivileges: { enabled: true, preset } }] });
        const compiled = new CompiledBundle(bundle);
        for (const level of ['baseline', 'restricted'])
          for (const outcome of ['pass', 'fail'])
            for (const file of yamlFiles(join(PSA_DIR, level, outcome)))
              for (const object of readObjects(file)) {
                same(bundle, { object, namespace: 'psa' }, { now: NOW, bundleRevision: 1 }, compiled);
                n++;
              }
      }
    expect(n).toBeGreaterThan(500);
  });

  it('is made once per bundle content', () => {
    const { bundle } = buildBundle({ policies: [{ name: 'a', mode: 'enforce', limitContainerPrivileges: { enabled: true, preset: 'baseline' } }] });
    expect(compiledBundle(bundle)).toBe(compiledBundle(bundle));
    expect(compiledBundle(structuredClone(bundle))).not.toBe(compiledBundle(bundle));
  });
});
