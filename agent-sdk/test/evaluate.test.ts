import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, ISSUER, newKey, sign, tamper, TENANT } from './support/bundles.ts';
import { CREDENTIAL } from './support/control-plane.ts';
import { cliWithStdin, evaluationContent, inputFiles } from './support/evaluate.ts';
import { badPod, review } from './support/webhook.ts';

let dir: string;
const run = (...args: string[]) => cliWithStdin(dir, '', 'evaluate', ...args);
const signed = ['--bundle', 'bundle.jws', '--trust', 'jwks.json'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-evaluate-'));
  const { key, jwks } = await newKey();
  const content = await evaluationContent(TENANT, CLUSTER);
  const jws = await sign(key, { revision: 9, content });
  const files: Record<string, string> = {
    ...inputFiles(),
    'bundle.jws': jws,
    'tampered.jws': tamper.payloadByte(jws),
    'jwks.json': JSON.stringify(jwks),
    'content.json': JSON.stringify(content),
    credential: CREDENTIAL,
    'config.json': JSON.stringify({ url: 'http://127.0.0.1:9', clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credentialFile: 'credential', trustFile: 'jwks.json', stateDir: 'state' }),
  };
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('palisade-agent evaluate', { timeout: 60_000 }, () => {
  it('prints a table of multi-document YAML and exits 1 when anything is denied', async () => {
    const out = await run(...signed, '--namespace', 'team-a', 'pods.yaml');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(1);
    const lines = out.stdout.split('\n');
    expect(lines[0]).toMatch(/^SOURCE\s+KIND\s+NAMESPACE\s+NAME\s+VERDICT$/);
    expect(lines[1]).toMatch(/^pods\.yaml#0\s+Pod\s+team-a\s+good\s+allowed$/);
    expect(lines[2]).toBe('    runtime profiles: app=web');
    // The "profiles" policy maps runtime profiles: the node agent's business, so admission says it does not enforce it.
    expect(lines[3]).toBe('    NOT ENFORCED  policy "profiles" enables containerRuntimeProfiles, not enforced by this admission agent');
    expect(lines[4]).toMatch(/^pods\.yaml#1\s+Pod\s+team-a\s+bad\s+DENIED$/);
    expect(lines.slice(5, 13)).toEqual([
      '    DENY   high      container "app": image "quay.io/evil/miner:latest" is from registry quay.io, which is not in the allowed registries (ghcr.io/acme, docker.io/library)  [policy "baseline" r4, registriesAllowed]',
      '    DENY   critical  container "app" sets privileged=true  [policy "baseline" r4, limitContainerPrivileges.baseline.privileged]',
      '    DENY   high      pod sets hostNetwork=true  [policy "baseline" r4, limitContainerPrivileges.baseline.hostNamespaces]',
      '    audit  low       container "app": image "quay.io/evil/miner:latest" uses the tag latest, which can change under it; use a version tag or a digest  [policy "hygiene" r2, bestPracticeCheck.imageTagNotLatest]',
      '    audit  low       container "sidecar": image "docker.io/library/envoy" has no tag, so it runs whatever latest is; use a version tag or a digest  [policy "hygiene" r2, bestPracticeCheck.imageTagNotLatest]',
      '    audit  low       container "sidecar" sets no memory limit  [policy "hygiene" r2, bestPracticeCheck.memoryLimitsSet]',
      '    runtime profiles: app=web, sidecar=web',
      '    NOT ENFORCED  policy "profiles" enables containerRuntimeProfiles, not enforced by this admission agent',
    ]);
    expect(out.stdout).toMatch(/^pods\.yaml#2\s+Service\s+team-a\s+web\s+allowed \(not a workload\)$/m);
    expect(lines.at(-2)).toBe('3 objects: 2 allowed, 1 denied; 3 audit findings');
  });

  it('prints JSON for machines: a List, an AdmissionReview, and exit 0 when all is allowed', async () => {
    const [mixed, good, deleted] = await Promise.all([
      run(...signed, '--output', 'json', 'list.json', 'review.json'),
      run(...signed, '--output', 'json', 'good.yaml'),
      run(...signed, 'delete.yaml'),
    ]);
    expect(mixed.code).toBe(1);
    const { results } = JSON.parse(mixed.stdout);
    expect(results.map((r: any) => [r.source, r.kind, r.namespace, r.name, r.allowed])).toEqual([
      ['list.json#0', 'Deployment', 'shop', 'api', true],
      ['list.json#1', 'Pod', 'shop', 'listed', false],
      ['review.json#0', 'Pod', 'shop', 'reviewed', false],
    ]);
    expect(results[0]).toMatchObject({ findings: [], runtimeProfiles: { app: ['00000003-0000-4000-8000-000000000001'] } });
    expect(results[0].notEnforced).toEqual([{ policy: { id: '00000001-0000-4000-8000-000000000003', name: 'profiles', revision: 1 }, mode: 'audit', sections: ['containerRuntimeProfiles'] }]);
    expect(results[2].findings).toContainEqual({
      policy: { id: '00000001-0000-4000-8000-000000000001', name: 'baseline', revision: 4 },
      mode: 'enforce', check: 'registriesAllowed', container: 'app', image: 'quay.io/evil/miner:latest',
      message: 'image "quay.io/evil/miner:latest" is from registry quay.io, which is not in the allowed registries (ghcr.io/acme, docker.io/library)', severity: 'high',
    });
    expect(results[2].findings).toContainEqual(expect.objectContaining({ check: 'limitContainerPrivileges.baseline.hostNamespaces', message: 'pod sets hostNetwork=true' }));
    expect(results[2].findings.find((f: any) => f.check.endsWith('hostNamespaces'))).not.toHaveProperty('container');
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout).results).toHaveLength(1);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(/^delete\.yaml#0\s+Pod\s+shop\s+leaving\s+allowed \(operation DELETE is not evaluated\)$/m);
  });

  it('reads a pod alike as JSON (parsed as JSON), as YAML flow and as block YAML; a duplicate key takes the last value in both', async () => {
    const pod = badPod('same');
    const flow = JSON.stringify(pod).replace(/"(\w+)":/g, '$1: ');
    // The same document with `privileged` given twice, the last one false (as the API server's decoder reads it).
    const duplicated = JSON.stringify(pod).replace('"privileged":true', '"privileged":true,"privileged":false');
    await writeFile(join(dir, 'same.json'), JSON.stringify(pod));
    await writeFile(join(dir, 'same-flow.yaml'), flow);
    await writeFile(join(dir, 'same-block.yaml'), `# a comment\n${flow}\n`);
    await writeFile(join(dir, 'dup.json'), duplicated);
    await writeFile(join(dir, 'dup.yaml'), `# a comment\n${duplicated}\n`);
    const out = await run(...signed, '--output', 'json', 'same.json', 'same-flow.yaml', 'same-block.yaml', 'dup.json', 'dup.yaml');
    expect(out.stderr).toBe('');
    const { results } = JSON.parse(out.stdout);
    const checks = (r: any) => r.findings.map((f: any) => f.check).sort();
    expect(results.map((r: any) => r.source)).toEqual(['same.json#0', 'same-flow.yaml#0', 'same-block.yaml#0', 'dup.json#0', 'dup.yaml#0']);
    expect(new Set(results.slice(0, 3).map((r: any) => JSON.stringify(checks(r)))).size).toBe(1);
    expect(checks(results[0])).toContain('limitContainerPrivileges.baseline.privileged');
    expect(checks(results[3])).toEqual(checks(results[4]));
    expect(checks(results[3])).not.toContain('limitContainerPrivileges.baseline.privileged');
  });

  it('reads standard input (-), and --cluster selects the policies scoped to it', async () => {
    const yaml = JSON.stringify(review(badPod('piped')));
    const piped = await cliWithStdin(dir, yaml, 'evaluate', ...signed, '--output', 'json', '-');
    expect(piped.code).toBe(1);
    expect(JSON.parse(piped.stdout).results[0]).toMatchObject({ source: 'stdin#0', name: 'piped', allowed: false });

    const [prod, staging] = await Promise.all([run(...signed, 'good.yaml'), run(...signed, '--cluster', 'staging-2', '--output', 'json', 'good.yaml')]);
    expect(prod.code).toBe(0);
    expect(staging.code).toBe(1);
    expect(JSON.parse(staging.stdout).results[0].findings).toEqual([expect.objectContaining({ policy: expect.objectContaining({ name: 'staging-lockdown' }), check: 'registriesAllowed' })]);
  });

  it('verifies a signed bundle with --trust or the configuration, and takes unsigned content only with --insecure-unsigned', async () => {
    const [viaConfig, unsigned, refused, tampered, noTrust] = await Promise.all([
      run('--bundle', 'bundle.jws', '--config', 'config.json', 'good.yaml'),
      run('--bundle', 'content.json', '--insecure-unsigned', '--output', 'json', 'pods.yaml'),
      run('--bundle', 'content.json', 'good.yaml'),
      run('--bundle', 'tampered.jws', '--trust', 'jwks.json', 'good.yaml'),
      run('--bundle', 'bundle.jws', 'good.yaml'),
    ]);
    expect(viaConfig).toMatchObject({ code: 0, stderr: '' });
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toBe('warning: content.json: unsigned bundle content, not verified (--insecure-unsigned)\n');
    expect(JSON.parse(unsigned.stdout).results.map((r: any) => r.allowed)).toEqual([true, false, true]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('content.json: is unsigned bundle content (JSON); pass --insecure-unsigned');
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toMatch(/tampered\.jws: bundle rejected \(bad_signature\)/);
    expect(noTrust.code).toBe(2);
    expect(noTrust.stderr).toContain('--trust JWKS (or --config FILE) is needed to verify the signed bundle bundle.jws');
  });

  it('exits 2 for usage and input errors, naming the file and the problem', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[...signed, 'broken.yaml'], /broken\.yaml: document 2: not YAML or JSON: /],
      [[...signed, 'scalar.yaml'], /scalar\.yaml: document 1: not a Kubernetes object \(a string\)/],
      [[...signed, 'empty.yaml'], /empty\.yaml: holds no Kubernetes object/],
      [[...signed, 'missing.yaml'], /missing\.yaml: no such file/],
      [[...signed, 'bad-review.json'], /bad-review\.json: document 1: not an AdmissionReview admission\.k8s\.io\/v1 request: apiVersion is "admission\.k8s\.io\/v1beta1"/],
      [[...signed], /no INPUT given/],
      [[...signed, '--output', 'xml', 'good.yaml'], /--output is "xml"; use table or json/],
      [['good.yaml'], /--bundle is required/],
      [[...signed, '-', '-'], /standard input \(-\) can be read only once/],
    ];
    const runs = await Promise.all(cases.map(([args]) => run(...args)));
    runs.forEach((r, i) => {
      expect(r.code, cases[i]![0].join(' ')).toBe(2);
      expect(r.stderr).toMatch(cases[i]![1]);
      expect(r.stdout).toBe('');
    });
  });
});
