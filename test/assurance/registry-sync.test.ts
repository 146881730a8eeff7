import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate } from '../../agent-sdk/src/engine/evaluate.ts';
import { images, registries } from '../../schema/tables/index.ts';
import { importCredentialsKey, generateCredentialsKey } from '../../workers/registries/credentials.ts';
import { syncDueRegistries } from '../../workers/registries/sync.ts';
import { resolveWithNodeDns } from '../../workers/node.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { PROBLEM } from '../support/resource-checks.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';

const report = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/fixtures/scan-reports/${name}`, import.meta.url), 'utf8')) as unknown;
const database = await testPglite();
const credentialsKey = await importCredentialsKey(generateCredentialsKey());
let clock = new Date();
const h = harness(database, { config: { registries: { allowLoopback: true } }, registries: { resolve: resolveWithNodeDns, credentialsKey }, now: () => clock });
let registry: TestRegistry;
let acme: TenantClient;

beforeAll(async () => {
  registry = await startRegistry({ tokenAuth: true });
  acme = await h.tenant('acme');
}, 60_000);
afterAll(async () => {
  await registry?.stop();
  await database.close();
});

const pod = (image: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app', image }] } });

describe('registry sync, scan results and the agent, end to end', { timeout: 120_000 }, () => {
  it('syncs a real registry behind token auth, decides compliance from a Trivy report, and the agent blocks then allows', async () => {
    const web = await registry.pushImage('team/web', '1.0', 'web one');
    const multi = await registry.pushIndex('team/multi', '2.0', 'multi');
    const webOld = await registry.pushImage('team/web', 'old', 'web zero');

    // A registry with credentials (write-only) and sync on.
    const created = await acme.json('POST', '/v1/registries', { name: 'local', url: `${registry.host}/team`, credentials: registry.credentials, sync: { enabled: true, intervalMinutes: 5 } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ credentialsSet: true, sync: { enabled: true, intervalMinutes: 5, maxRepositories: 100, maxTagsPerRepository: 100 } });
    expect(JSON.stringify(created.body)).not.toContain(registry.credentials!.password);
    const [stored] = await database.db.select().from(registries);
    expect(stored!.credentials).toMatch(/^v1\./);
    expect(stored!.credentials).not.toContain(registry.credentials!.password);
    expect(JSON.stringify(stored!.spec)).not.toContain(registry.credentials!.password);

    // The scheduled pass finds it due and syncs it (catalog, tags, manifest digests, the index's platforms).
    const pass = await syncDueRegistries(database.db, { fetch, resolve: resolveWithNodeDns, allowLoopback: true, credentialsKey, now: () => clock });
    expect(pass.synced).toBe(1);
    const status = (await acme.json('GET', `/v1/registries/${created.body.id}`)).body;
    expect(status.syncStatus).toMatchObject({ state: 'ok', repositories: 2, tags: 3, imagesRegistered: 5, errors: [] });
    const listed = (await acme.json('GET', `/v1/images?reference=${registry.host}/team/web`)).body.items;
    expect(listed.map((i: any) => [i.digest, i.tags, i.compliance])).toEqual(expect.arrayContaining([[web, ['1.0'], 'notScanned'], [webOld, ['old'], 'notScanned']]));
    const multiImages = (await acme.json('GET', `/v1/images?reference=${registry.host}/team/multi`)).body.items;
    expect(multiImages.map((i: any) => [i.digest, i.tags]).sort()).toEqual([[multi.index, ['2.0']], [multi.amd64, []], [multi.arm64, []]].sort());
    expect(multiImages.find((i: any) => i.digest === multi.arm64).registrySync.index).toEqual({ digest: multi.index, platform: 'linux/arm64' });
    const webImage = listed.find((i: any) => i.digest === web);

    // Policies: block non-compliant images in Enforce mode; an assurance policy on the registry.
    const cluster = (await acme.json('POST', '/v1/clusters', { name: 'prod-eu' })).body.id;
    const clusters = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
    const images = (await acme.json('POST', '/v1/scopes', { name: 'local images', resources: [{ type: 'registry', registry: `${registry.host}/team` }] })).body.id;
    expect((await acme.json('POST', '/v1/runtime-policies', { name: 'compliant only', mode: 'enforce', scopeIds: [clusters], blockNonCompliantImages: { enabled: true } })).status).toBe(201);
    const assurance = await acme.json('POST', '/v1/assurance-policies', { name: 'no critical', scopeIds: [images], maxSeverity: 'high' });
    expect(assurance.status, JSON.stringify(assurance.body)).toBe(201);

    const bundle = async () => {
      const res = await acme.request('GET', `/v1/clusters/${cluster}/bundle`);
      expect(res.status).toBe(200);
      return { revision: res.headers.get('palisade-bundle-revision'), content: (await res.json()) as any };
    };
    const decide = (content: any, image: string) => evaluate(content, { object: pod(image), namespace: 'shop', cluster: 'prod-eu' }, { now: clock, bundleRevision: 1 });
    const first = await bundle();
    // Registered, not yet scanned: not non-compliant (issue 8), so admitted.
    expect(first.content.images.find((i: any) => i.digest === web)).toMatchObject({ compliance: 'notScanned' });
    expect(decide(first.content, `${registry.host}/team/web:1.0`).allowed).toBe(true);

    // A real Trivy report for the image (scanned from an archive: the digest comes as a parameter).
    const posted = await acme.json('POST', `/v1/images/scan-results?digest=${web}`, report('trivy/debian-buster.json'));
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    expect(posted.body).toMatchObject({ digest: web, format: 'trivy', scanner: { name: 'trivy', version: 'dev' }, counts: { critical: 1, low: 1 }, findings: 2 });
    expect(posted.body.images).toEqual([expect.objectContaining({ id: webImage.id, compliance: 'nonCompliant' })]);
    const why = (await acme.json('GET', `/v1/images/${webImage.id}/scan-results`)).body;
    expect(why.complianceReasons).toEqual([expect.objectContaining({ policyName: 'no critical', rule: 'maxSeverity', cves: [expect.objectContaining({ id: 'CVE-2019-18224', package: 'libidn2-0', severity: 'critical', fixedVersion: '2.0.5-1+deb10u1' })] })]);
    expect(why.findings).toHaveLength(2);

    const second = await bundle();
    expect(Number(second.revision)).toBeGreaterThan(Number(first.revision));
    expect(second.content.images.find((i: any) => i.digest === web)).toMatchObject({ compliance: 'nonCompliant', why: expect.stringContaining('CVE-2019-18224') });
    const denied = decide(second.content, `${registry.host}/team/web:1.0`);
    expect(denied.allowed).toBe(false);
    expect(denied.findings).toContainEqual(expect.objectContaining({ check: 'blockNonCompliantImages', message: expect.stringContaining('CVE-2019-18224') }));

    // An allow-list entry (reason and expiry) makes it compliant until the entry expires.
    const expiresAt = new Date(clock.getTime() + 7 * 86_400_000).toISOString();
    const patched = await acme.json('PATCH', `/v1/assurance-policies/${assurance.body.id}`, { allowedCves: [{ id: 'CVE-2019-18224', reason: 'IDN input never reaches libidn2 here', expiresAt }] }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const third = await bundle();
    expect(third.content.images.find((i: any) => i.digest === web)).toMatchObject({ compliance: 'compliant', compliantUntil: expiresAt });
    expect(decide(third.content, `${registry.host}/team/web:1.0`).allowed).toBe(true);
    // The agent honours the expiry from the bundle alone; the hourly recompute then writes it down.
    clock = new Date(Date.parse(expiresAt) + 1000);
    expect(decide(third.content, `${registry.host}/team/web:1.0`).allowed).toBe(false);

    // A tag moves: the old digest loses it (marked, not deleted), the new digest is registered.
    clock = new Date(Date.parse(expiresAt) - 86_400_000);
    const webNew = await registry.pushImage('team/web', 'old', 'web two');
    const synced = await acme.json('POST', `/v1/registries/${created.body.id}/sync`);
    expect(synced.body).toMatchObject({ state: 'ok', imagesRegistered: 1, tagsRemoved: 1 });
    const after = (await acme.json('GET', `/v1/images?reference=${registry.host}/team/web`)).body.items;
    expect(after.find((i: any) => i.digest === webOld)).toMatchObject({ tags: [], registrySync: { removedTags: [{ tag: 'old', removedAt: clock.toISOString() }], missingSince: clock.toISOString() } });
    expect(after.find((i: any) => i.digest === webNew)).toMatchObject({ tags: ['old'] });
  });

  it('records registry errors in the status: wrong credentials, an unreachable registry', async () => {
    const bad = await acme.json('POST', '/v1/registries', { name: 'wrong creds', url: `${registry.host}/team`, credentials: { username: 'ci', password: 'nope' }, sync: { enabled: true } });
    const res = await acme.json('POST', `/v1/registries/${bad.body.id}/sync`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'failed', errors: [{ repository: '', message: expect.stringMatching(/token service .* refused \(401\).*credentials/) }] });
    expect((await acme.json('GET', `/v1/registries/${bad.body.id}`)).body.syncStatus.state).toBe('failed');
    const gone = await acme.json('POST', '/v1/registries', { name: 'gone', url: '127.0.0.1:9', sync: { enabled: true, repositories: ['x/y'] } });
    const res2 = await acme.json('POST', `/v1/registries/${gone.body.id}/sync`);
    expect(res2.body).toMatchObject({ state: 'failed', errors: [{ repository: 'x/y', message: expect.stringMatching(/could not be reached/) }] });
  });

  it('refuses loopback and private registries to sync without the development setting (SSRF guard)', async () => {
    const strict = harness(database, { registries: { resolve: resolveWithNodeDns, credentialsKey } });
    const globex = await strict.tenant('globex');
    for (const url of [registry.host, 'localhost:5000', '10.0.0.8/team', '169.254.169.254', 'metadata.google.internal']) {
      const res = await globex.json('POST', '/v1/registries', { name: `r-${url}`, url, sync: { enabled: true } });
      expect(res.status, url).toBe(422);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
      expect(res.body.errors[0].pointer).toBe('/url');
    }
    // A name that resolves to loopback is refused at sync time, before any request.
    const sneaky = await globex.json('POST', '/v1/registries', { name: 'sneaky', url: 'localtest.me', sync: { enabled: true, repositories: ['a/b'] } });
    expect(sneaky.status).toBe(201);
    // Without sync a registry is only a prefix for policies and is never contacted.
    expect((await globex.json('POST', '/v1/registries', { name: 'kind', url: 'localhost:5000' })).status).toBe(201);
  });

  it('keeps sealed credentials with their tenant', async () => {
    const rows = await database.db.select({ tenantId: registries.tenantId, credentials: registries.credentials }).from(registries);
    const { openCredentials } = await import('../../workers/registries/credentials.ts');
    const row = rows.find((r) => r.credentials)!;
    await expect(openCredentials(credentialsKey, row.tenantId, row.credentials!)).resolves.toMatchObject({ username: 'ci' });
    await expect(openCredentials(credentialsKey, '00000000-0000-7000-8000-000000000000', row.credentials!)).rejects.toThrow(/do not open/);
    expect(await database.db.select({ id: images.id }).from(images)).not.toHaveLength(0);
  });
});
