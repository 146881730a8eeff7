import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRequest, enrolledCluster } from '../../test/support/agent.ts';
import { harness } from '../../test/support/harness.ts';
import { testPglite } from '../../test/support/pglite.ts';
import { cliWithStdin } from './support/evaluate.ts';
import { badPod, goodPod } from './support/webhook.ts';

// Policies made in the real control plane (the Hono app on PGlite), tried with `evaluate` before and after signing.
const database = await testPglite();
const h = harness(database);
let dir: string;
let revision: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-evaluate-cp-'));
  const acme = await h.tenant('acme');
  const scope = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  await acme.json('POST', '/v1/runtime-policies', { name: 'prod-baseline', mode: 'enforce', scopeIds: [scope], limitContainerPrivileges: { enabled: true, preset: 'baseline' }, registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library'] } });
  await acme.json('POST', '/v1/runtime-policies', { name: 'hygiene', mode: 'audit', scopeIds: [scope], bestPracticeCheck: { enabled: true, checks: ['cpuLimitsSet'] } });
  const agent = await enrolledCluster(h, acme, 'prod-eu');
  const unsigned = await acme.request('GET', `/v1/clusters/${agent.clusterId}/bundle`);
  expect(unsigned.status).toBe(200);
  revision = unsigned.headers.get('palisade-bundle-revision')!;
  const jws = await (await agentRequest(h, agent.credential, '/v1/agent/bundle')).text();
  await writeFile(join(dir, 'content.json'), await unsigned.text());
  await writeFile(join(dir, 'bundle.jws'), jws);
  await writeFile(join(dir, 'jwks.json'), JSON.stringify(agent.jwks));
  await writeFile(join(dir, 'app.yaml'), [stringify(goodPod('good')), stringify(badPod('bad'))].join('---\n'));
});
afterAll(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

const summary = (stdout: string) => JSON.parse(stdout).results.map((r: any) => ({ name: r.name, allowed: r.allowed, policies: [...new Set(r.findings.map((f: any) => `${f.mode}:${f.policy.name}`))].sort() }));

describe('evaluate with bundles from the control plane', { timeout: 60_000 }, () => {
  it('--insecure-unsigned takes GET /v1/clusters/{id}/bundle content; the signed bundle decides the same', async () => {
    const [unsigned, staging, signed] = await Promise.all([
      cliWithStdin(dir, '', 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', '--output', 'json', 'app.yaml'),
      cliWithStdin(dir, '', 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', '--cluster', 'staging-1', 'app.yaml'),
      cliWithStdin(dir, '', 'evaluate', '--bundle', 'bundle.jws', '--trust', 'jwks.json', '--output', 'json', 'app.yaml'),
    ]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.stderr).toContain('unsigned bundle content, not verified');
    const expected = [
      { name: 'good', allowed: true, policies: ['audit:hygiene'] },
      { name: 'bad', allowed: false, policies: ['audit:hygiene', 'enforce:prod-baseline'] },
    ];
    expect(summary(unsigned.stdout)).toEqual(expected);
    expect(JSON.parse(unsigned.stdout).results[1].findings).toContainEqual(expect.objectContaining({ check: 'registriesAllowed', container: 'app', policy: expect.objectContaining({ name: 'prod-baseline', revision: 1 }) }));
    expect(staging.code).toBe(0); // the scope covers prod-* only
    expect(staging.stdout).toMatch(/2 objects: 2 allowed, 0 denied; 0 audit findings/);
    expect(signed).toMatchObject({ code: 1, stderr: '' });
    expect(summary(signed.stdout)).toEqual(expected);
    expect(Number(revision)).toBeGreaterThan(0);
  });
});
