import { describe, expect, it } from 'vitest';
import { evaluate } from '../../agent-sdk/src/engine/index.ts';
import { said } from '../../agent-sdk/src/webhook/messages.ts';
import { buildBundle } from './support/bundle.ts';

// What users read in kubectl, `palisade-agent evaluate` and audit events: each finding in plain words, naming what
// the policy allows where the user compares it, never the subject twice.
const now = new Date('2026-06-01T00:00:00Z');
const digest = (d: string) => `sha256:${d.repeat(64)}`;
const { bundle } = buildBundle({
  policies: [
    { name: 'registries', mode: 'enforce', registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library'] } },
    { name: 'nothing-allowed', mode: 'audit', registriesAllowed: { enabled: true, registries: [] } },
    { name: 'tags', mode: 'audit', bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'memoryLimitsSet'] } },
    { name: 'inventory', mode: 'audit', blockUnregisteredImages: { enabled: true }, blockNonCompliantImages: { enabled: true } },
    { name: 'volumes', mode: 'audit', volumesBlocked: { enabled: true, paths: ['/etc'] } },
    { name: 'restricted', mode: 'audit', limitContainerPrivileges: { enabled: true, preset: 'restricted' } },
  ],
  images: [{ reference: 'ghcr.io/acme/web', digest: digest('2'), tags: ['2.0'], compliance: 'nonCompliant' }],
});

const pod = {
  kind: 'Pod',
  metadata: { name: 'p' },
  spec: {
    containers: [
      { name: 'quay', image: 'quay.io/x/y:1', resources: { limits: { memory: '1Gi' } } },
      { name: 'latest', image: 'ghcr.io/acme/web:latest', resources: { limits: { memory: '1Gi' } } },
      { name: 'untagged', image: 'docker.io/library/envoy', resources: { limits: { memory: '1Gi' } }, volumeMounts: [{ name: 'host', mountPath: '/h' }] },
      { name: 'scanned', image: 'ghcr.io/acme/web:2.0', securityContext: { capabilities: { add: ['SYS_ADMIN'] } } },
      { name: 'broken', image: 'nginx:-x', resources: { limits: { memory: '1Gi' } } },
    ],
    volumes: [{ name: 'host', hostPath: { path: '/etc/ssh' } }, { name: 'share', nfs: { server: 'n', path: '/' } }],
  },
};

const messages = () => {
  const d = evaluate(bundle, { object: pod }, { now, bundleRevision: 1 });
  return d.findings.map((f) => ({ policy: f.policy.name, check: f.check, text: said(f) }));
};
const find = (policy: string, check: string, container?: string) =>
  messages().filter((m) => m.policy === policy && m.check === check && (container === undefined || m.text.startsWith(`container "${container}"`))).map((m) => m.text);

describe('finding messages', () => {
  it('registriesAllowed names the image\'s registry and the allowed list separately', () => {
    expect(find('registries', 'registriesAllowed')).toEqual([
      'container "quay": image "quay.io/x/y:1" is from registry quay.io, which is not in the allowed registries (ghcr.io/acme, docker.io/library)',
    ]);
    expect(find('nothing-allowed', 'registriesAllowed', 'quay')).toEqual([
      'container "quay": image "quay.io/x/y:1" is from registry quay.io, which is not in the allowed registries (none: the list is empty)',
    ]);
  });

  it('imageTagNotLatest says whether the tag is latest or missing, and what to do', () => {
    expect(find('tags', 'bestPracticeCheck.imageTagNotLatest')).toEqual([
      'container "latest": image "ghcr.io/acme/web:latest" uses the tag latest, which can change under it; use a version tag or a digest',
      'container "untagged": image "docker.io/library/envoy" has no tag, so it runs whatever latest is; use a version tag or a digest',
    ]);
    expect(find('tags', 'bestPracticeCheck.memoryLimitsSet')).toEqual(['container "scanned" sets no memory limit']);
  });

  it('inventory, volume, reference and restricted-level findings read as sentences', () => {
    expect(find('inventory', 'blockUnregisteredImages', 'quay')).toEqual([
      'container "quay": image "quay.io/x/y:1" is not registered (neither its digest nor its tag is in the image inventory)',
    ]);
    expect(find('inventory', 'blockNonCompliantImages')).toEqual([`container "scanned": image "ghcr.io/acme/web:2.0" (${digest('2')}) is not compliant: assurance found it non-compliant`]);
    expect(find('volumes', 'volumesBlocked')).toEqual(['container "untagged": volume "host" mounts host path /etc/ssh, which reaches the blocked path /etc']);
    expect(find('registries', 'imageReference')).toEqual(['container "broken" cannot be checked: invalid image reference "nginx:-x": malformed tag']);
    expect(find('restricted', 'limitContainerPrivileges.restricted.capabilities_restricted', 'scanned')).toEqual([
      'container "scanned" does not drop ALL capabilities and adds capabilities SYS_ADMIN',
    ]);
    expect(find('restricted', 'limitContainerPrivileges.restricted.restrictedVolumes')).toContain('pod: volume "share" is of type nfs, which the restricted level does not allow');
  });

  it('never names the subject twice', () => {
    for (const m of messages()) expect(m.text).not.toMatch(/^(container "[^"]*"|pod): (container "|pod )/);
  });
});
