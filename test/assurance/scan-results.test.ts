import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { imageScans } from '../../schema/tables/index.ts';
import { recomputeLapsedCompliance } from '../../workers/assurance/lapse.ts';
import { harness, keyWithRoles } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { mustCreate, PROBLEM } from '../support/resource-checks.ts';

const text = (name: string) => readFileSync(new URL(`../../../shared/fixtures/scan-reports/${name}`, import.meta.url), 'utf8');
const report = (name: string) => JSON.parse(text(name)) as Record<string, any>;
const database = await testPglite();
let clock = new Date('2021-09-01T00:00:00Z');
const h = harness(database, { now: () => clock, config: { maxScanReportBytes: 256 * 1024 } });
const acme = await h.tenant('acme');
const globex = await h.tenant('globex');
afterAll(() => database.close());

const digest = (ch: string) => `sha256:${ch.repeat(64)}`;
const scans = () => database.db.select({ digest: imageScans.digest }).from(imageScans);

const registryScope = (await mustCreate(acme, '/v1/scopes', { name: 'acme images', resources: [{ type: 'registry', registry: 'ghcr.io/acme' }] })).body.id as string;

describe('POST /v1/images/scan-results', { timeout: 60_000 }, () => {
  it('refuses malformed and oversized reports with problem+json naming the problem, storing nothing', async () => {
    const cases: Array<[unknown, number, string | RegExp]> = [
      [{ hello: 'world' }, 422, /not a Trivy JSON/],
      [{ ...report('trivy/debian-buster.json'), SchemaVersion: 1 }, 422, '/SchemaVersion'],
      [{ ...report('grype/keycloak-test.json'), matches: 'none' }, 422, '/matches'],
      [{ bomFormat: 'CycloneDX', specVersion: '1.6' }, 422, '/vulnerabilities'],
    ];
    for (const [body, status, expected] of cases) {
      const res = await acme.json('POST', `/v1/images/scan-results?digest=${digest('a')}`, body);
      expect(res.status).toBe(status);
      expect(res.headers.get('content-type')).toBe(PROBLEM);
      if (typeof expected === 'string') expect(res.body.errors.map((e: any) => e.pointer)).toContain(expected);
      else expect(res.body.errors[0].detail).toMatch(expected);
    }
    const notJson = await acme.request('POST', `/v1/images/scan-results?digest=${digest('a')}`, '{"SchemaVersion": 2,');
    expect(notJson.status).toBe(400);
    expect(notJson.headers.get('content-type')).toBe(PROBLEM);
    const wrongType = await acme.request('POST', `/v1/images/scan-results?digest=${digest('a')}`, text('trivy/alpine-310.json'), { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    // Larger than the scan report limit (256 KiB here): 413 before parsing.
    const huge = report('trivy/alpine-310.json');
    huge.Padding = 'x'.repeat(300 * 1024);
    const big = await acme.json('POST', `/v1/images/scan-results?digest=${digest('a')}`, huge);
    expect(big.status).toBe(413);
    expect(big.body.detail ?? big.body.title).toMatch(/scan report exceeds/);
    // A report of an image archive names no digest; a bad digest parameter is named.
    const noDigest = await acme.json('POST', '/v1/images/scan-results', report('trivy/alpine-310.json'));
    expect(noDigest.status).toBe(400);
    expect(noDigest.body.errors).toEqual([{ parameter: 'digest', detail: expect.stringMatching(/names no image digest/) }]);
    expect((await acme.json('POST', '/v1/images/scan-results?digest=sha256:ABC', report('trivy/alpine-310.json'))).body.errors[0].parameter).toBe('digest');
    // A digest that contradicts the report's.
    const other = await acme.json('POST', `/v1/images/scan-results?digest=${digest('b')}`, report('grype/keycloak-test.json'));
    expect(other.status).toBe(422);
    expect(other.body.errors[0].detail).toMatch(/names digest sha256:347a0d/);
    // Dated in the future (the scanner's clock may run 5 minutes ahead, no more).
    clock = new Date('2021-08-25T12:00:00Z');
    expect((await acme.json('POST', `/v1/images/scan-results?digest=${digest('a')}`, report('trivy/alpine-310.json'))).status).toBe(422);
    clock = new Date('2021-09-01T00:00:00Z');
    expect(await scans()).toEqual([]);
  });

  it('keeps a scan of an unregistered digest until the image is registered, then decides at once', async () => {
    clock = new Date('2023-09-02T00:00:00Z');
    const keycloak = report('grype/keycloak-test.json');
    const posted = await acme.json('POST', '/v1/images/scan-results', keycloak);
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ digest: 'sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50', format: 'grype', scanner: { name: 'grype', version: '0.66.0' }, findings: 6, counts: { low: 6 }, images: [] });
    // No assurance policy covers docker.io: scanned and compliant once registered.
    const image = await mustCreate(acme, '/v1/images', { reference: 'docker.io/keycloak/keycloak:21.0.2', digest: posted.body.digest, compliance: 'nonCompliant' });
    expect(image.body).toMatchObject({ compliance: 'compliant', lastScanAt: '2023-09-01T12:13:42.201Z', complianceReasons: [] });
    // An older report does not replace a newer one.
    const older = report('grype/ghsa-test.json');
    older.source.target.userInput = `docker.io/keycloak/keycloak@${posted.body.digest}`;
    older.source.target.repoDigests = [];
    const refused = await acme.json('POST', '/v1/images/scan-results', older);
    expect(refused.status, JSON.stringify(refused.body)).toBe(409);
    expect(refused.headers.get('content-type')).toBe(PROBLEM);
    // Another tenant neither sees it nor has it.
    expect((await globex.json('GET', `/v1/images/${image.body.id}/scan-results`)).status).toBe(404);
    expect((await globex.json('POST', `/v1/images/${image.body.id}/scan-results`, keycloak)).status).toBe(404);
    clock = new Date('2021-09-01T00:00:00Z');
  });

  it('decides with assurance policies, says why, and recomputes on policy changes and when time passes', async () => {
    const image = await mustCreate(acme, '/v1/images', { reference: 'ghcr.io/acme/shop:2.4', digest: digest('c') });
    const policy = await acme.json('POST', '/v1/assurance-policies', { name: 'prod', scopeIds: [registryScope], maxSeverity: 'medium', maxScanAgeDays: 30 });
    expect(policy.status, JSON.stringify(policy.body)).toBe(201);
    const posted = await acme.json('POST', `/v1/images/${image.body.id}/scan-results`, report('trivy/spring4shell-jre11.json'));
    expect(posted.status).toBe(201);
    expect(posted.body.images[0]).toMatchObject({ compliance: 'nonCompliant', complianceReasons: [{ rule: 'maxSeverity', cves: [{ id: 'CVE-2022-22965' }] }] });
    const listed = await acme.json('GET', '/v1/images?compliance=nonCompliant&reference=ghcr.io/acme/shop');
    expect(listed.body.items.map((i: any) => i.id)).toEqual([image.body.id]);

    // Raising the limit recomputes at once.
    const raised = await acme.json('PATCH', `/v1/assurance-policies/${policy.body.id}`, { maxSeverity: 'critical' }, { 'content-type': 'application/merge-patch+json' });
    expect(raised.status).toBe(200);
    const now = (await acme.json('GET', `/v1/images/${image.body.id}`)).body;
    expect(now).toMatchObject({ compliance: 'compliant', compliantUntil: '2021-09-24T12:20:30.000Z' });

    // Thirty days after the scan the hourly job finds it lapsed and writes it down, with the reason.
    clock = new Date('2021-09-25T00:00:00Z');
    const run = await recomputeLapsedCompliance(database.db, clock);
    expect(run).toEqual({ changed: 1, tenants: [acme.id] });
    expect((await acme.json('GET', `/v1/images/${image.body.id}`)).body).toMatchObject({ compliance: 'nonCompliant', complianceReasons: [{ rule: 'maxScanAgeDays' }] });
    expect(await recomputeLapsedCompliance(database.db, clock)).toEqual({ changed: 0, tenants: [] });

    // Deleting the policy leaves nothing to break.
    expect((await acme.request('DELETE', `/v1/assurance-policies/${policy.body.id}`)).status).toBe(204);
    expect((await acme.json('GET', `/v1/images/${image.body.id}`)).body).toMatchObject({ compliance: 'compliant', complianceReasons: [] });
    clock = new Date('2021-09-01T00:00:00Z');
  });

  it('validates assurance policies: scopes that select images, allow entries with reason and expiry, no CVE both allowed and blocked', async () => {
    const clusterScope = (await mustCreate(acme, '/v1/scopes', { name: 'clusters', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
    const res = await acme.json('POST', '/v1/assurance-policies', {
      name: 'bad',
      scopeIds: [clusterScope, '00000000-0000-7000-8000-000000000000'],
      maxCvss: 11,
      allowedCves: [{ id: 'CVE-2024-3094' }],
      blockedCves: [{ id: 'not a cve' }],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.map((e: any) => e.pointer).sort()).toEqual(['/allowedCves/0/expiresAt', '/allowedCves/0/reason', '/blockedCves/0/id', '/maxCvss']);
    const refs = await acme.json('POST', '/v1/assurance-policies', { name: 'refs', scopeIds: [clusterScope, '00000000-0000-7000-8000-000000000000'] });
    expect(refs.status).toBe(422);
    expect(refs.body.errors).toEqual([
      { pointer: '/scopeIds/0', detail: expect.stringMatching(/only clusters or namespaces/) },
      { pointer: '/scopeIds/1', detail: 'no scope 00000000-0000-7000-8000-000000000000' },
    ]);
    const both = await acme.json('POST', '/v1/assurance-policies', { name: 'both', scopeIds: [registryScope], blockedCves: [{ id: 'CVE-2024-3094' }], allowedCves: [{ id: 'cve-2024-3094', reason: 'r', expiresAt: '2030-01-01T00:00:00Z' }] });
    expect(both.body.errors).toEqual([{ pointer: '/allowedCves/0/id', detail: expect.stringMatching(/also on blockedCves/) }]);
    // A scope in use keeps its registries and cannot be deleted.
    const used = await acme.json('POST', '/v1/assurance-policies', { name: 'uses scope', scopeIds: [registryScope] });
    expect(used.status).toBe(201);
    const del = await acme.json('DELETE', `/v1/scopes/${registryScope}`);
    expect(del.status).toBe(409);
    expect(del.body.detail ?? del.body.title).toMatch(/assurance polic/);
    expect((await acme.json('PUT', `/v1/scopes/${registryScope}`, { name: 'acme images', resources: [{ type: 'cluster', cluster: 'x' }] })).status).toBe(409);
  });

  it('needs images.manage to post reports and manage assurance policies', async () => {
    const reader = h.as(acme, await keyWithRoles(acme, ['developer']));
    expect((await reader.json('POST', `/v1/images/scan-results?digest=${digest('d')}`, report('trivy/debian-buster.json'))).status).toBe(403);
    expect((await reader.json('POST', '/v1/assurance-policies', { name: 'x', scopeIds: [registryScope] })).status).toBe(403);
    expect((await reader.json('GET', '/v1/assurance-policies')).status).toBe(200);
  });
});
