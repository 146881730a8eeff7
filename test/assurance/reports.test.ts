import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AssurancePolicyInput, type AssurancePolicyInput as PolicyIn } from '../../schema/assurance-policies.ts';
import { parseScanReport, ReportError } from '../../schema/scan-reports/index.ts';
import { decideCompliance } from '../../workers/assurance/decide.ts';

const DIR = new URL('../../../shared/fixtures/scan-reports/', import.meta.url);
const load = (path: string) => JSON.parse(readFileSync(new URL(path, DIR), 'utf8')) as unknown;
const RECEIVED = '2026-01-01T00:00:00.000Z';
const policy = (spec: Partial<PolicyIn>, id = '00000000-0000-7000-8000-000000000001') => ({ id, spec: AssurancePolicyInput.parse({ name: 'prod', scopeIds: [id], ...spec }) });
const at = (iso: string) => new Date(iso);

describe('scan reports: the real Trivy reports', () => {
  it('alpine-310: four MEDIUM findings with fixed versions, CVSS from the report', () => {
    const r = parseScanReport(load('trivy/alpine-310.json'), RECEIVED);
    expect(r).toMatchObject({ format: 'trivy', scanner: { name: 'trivy', version: 'dev' }, scannedAt: '2021-08-25T12:20:30.000000005Z' });
    expect(r.digest).toBeUndefined(); // scanned from a tar: no repo digest, the API takes ?digest=
    expect(r.findings.map((f) => `${f.id} ${f.package} ${f.installedVersion}->${f.fixedVersion} ${f.severity}`).sort()).toEqual([
      'CVE-2019-1549 libcrypto1.1 1.1.1c-r0->1.1.1d-r0 medium',
      'CVE-2019-1549 libssl1.1 1.1.1c-r0->1.1.1d-r0 medium',
      'CVE-2019-1551 libcrypto1.1 1.1.1c-r0->1.1.1d-r2 medium',
      'CVE-2019-1551 libssl1.1 1.1.1c-r0->1.1.1d-r2 medium',
    ]);
    expect(r.findings.every((f) => typeof f.cvss === 'number')).toBe(true);
    const now = at('2021-09-01T00:00:00Z');
    expect(decideCompliance(r, [policy({ maxSeverity: 'medium' })], now).compliance).toBe('compliant');
    const high = decideCompliance(r, [policy({ maxSeverity: 'low' })], now);
    expect(high.compliance).toBe('nonCompliant');
    expect(high.reasons[0]).toMatchObject({ rule: 'maxSeverity', count: 4, policyName: 'prod' });
  });

  it('debian-buster: CRITICAL fixable libidn2, LOW unfixable bash; onlyFixable and CVSS limits', () => {
    const r = parseScanReport(load('trivy/debian-buster.json'), RECEIVED);
    const byId = Object.fromEntries(r.findings.map((f) => [f.id, f]));
    expect(byId['CVE-2019-18224']).toMatchObject({ package: 'libidn2-0', installedVersion: '2.0.5-1', fixedVersion: '2.0.5-1+deb10u1', severity: 'critical', cvss: 9.8 });
    expect(byId['CVE-2019-18276']).toMatchObject({ package: 'bash', severity: 'low', cvss: 7.8 });
    expect(byId['CVE-2019-18276']!.fixedVersion).toBeUndefined();
    const now = at('2021-09-01T00:00:00Z');
    const sev = decideCompliance(r, [policy({ maxSeverity: 'high' })], now);
    expect(sev.reasons.map((x) => [x.rule, x.cves.map((c) => c.id)])).toEqual([['maxSeverity', ['CVE-2019-18224']]]);
    // CVSS 7.0: both break it; only fixable: only libidn2 counts.
    expect(decideCompliance(r, [policy({ maxCvss: 7 })], now).reasons[0]!.cves.map((c) => c.id).sort()).toEqual(['CVE-2019-18224', 'CVE-2019-18276']);
    expect(decideCompliance(r, [policy({ maxCvss: 7, onlyFixable: true })], now).reasons[0]!.cves.map((c) => c.id)).toEqual(['CVE-2019-18224']);
    // The block list names bash's CVE, fixable or not, whatever its severity.
    expect(decideCompliance(r, [policy({ blockedCves: [{ id: 'cve-2019-18276' }] })], now).reasons).toMatchObject([{ rule: 'blockedCves', cves: [{ id: 'CVE-2019-18276' }] }]);
  });

  it('spring4shell: the CRITICAL Java finding; an allow-list entry hides it until it expires', () => {
    const r = parseScanReport(load('trivy/spring4shell-jre11.json'), RECEIVED);
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ id: 'CVE-2022-22965', package: 'org.springframework:spring-beans', installedVersion: '5.3.15', fixedVersion: expect.stringContaining('5.3.18'), severity: 'critical' });
    const allow = { maxSeverity: 'high' as const, allowedCves: [{ id: 'CVE-2022-22965', reason: 'not reachable: no WAR deployment', expiresAt: '2022-06-01T00:00:00Z' }] };
    const before = decideCompliance(r, [policy(allow)], at('2022-05-01T00:00:00Z'));
    expect(before).toEqual({ compliance: 'compliant', reasons: [], compliantUntil: '2022-06-01T00:00:00.000Z' });
    const after = decideCompliance(r, [policy(allow)], at('2022-06-01T00:00:00Z'));
    expect(after.compliance).toBe('nonCompliant');
    expect(after.reasons[0]).toMatchObject({ rule: 'maxSeverity', cves: [{ id: 'CVE-2022-22965' }] });
  });

  it('scan age: compliant until the scan is older than maxScanAgeDays, then non-compliant naming the rule', () => {
    const r = parseScanReport(load('trivy/alpine-310.json'), RECEIVED);
    const p = [policy({ maxSeverity: 'critical', maxScanAgeDays: 30 })];
    const fresh = decideCompliance(r, p, at('2021-09-20T00:00:00Z'));
    expect(fresh.compliance).toBe('compliant');
    expect(fresh.compliantUntil).toBe('2021-09-24T12:20:30.000Z');
    const stale = decideCompliance(r, p, at('2021-09-24T12:20:31Z'));
    expect(stale).toMatchObject({ compliance: 'nonCompliant', reasons: [{ rule: 'maxScanAgeDays', count: 0 }] });
  });
});

describe('scan reports: the real Grype reports', () => {
  it('ghsa-test: a GHSA with its CVE alias, the digest from the scanned reference', () => {
    const r = parseScanReport(load('grype/ghsa-test.json'), RECEIVED);
    expect(r).toMatchObject({ format: 'grype', scanner: { name: 'grype', version: '0.65.1' }, scannedAt: '2023-08-31T15:13:32.377177-04:00' });
    expect(r.digest).toBe('sha256:10008791acbc5866de04108746a02a0c4029ce3a4400a9b3dad45d7f2245f9da');
    expect(r.reference).toBe('anchore/test_images');
    expect(r.findings.map((f) => [f.id, f.package, f.installedVersion, f.fixedVersion ?? null, f.severity])).toEqual([
      ['GHSA-cfh5-3ghh-wfjx', 'httpclient', '4.1.1', '4.3.5', 'medium'],
      ['CVE-2014-3577', 'httpclient', '4.1.1', null, 'medium'],
    ]);
    expect(r.findings[0]!.aliases).toContain('CVE-2014-3577');
    const now = at('2023-09-01T00:00:00Z');
    // Blocking the CVE catches the GHSA that aliases it as well.
    expect(decideCompliance(r, [policy({ blockedCves: [{ id: 'CVE-2014-3577' }] })], now).reasons[0]!.count).toBe(2);
    // Allowing it hides both, until the entry's expiry.
    const allowed = decideCompliance(r, [policy({ maxSeverity: 'low', allowedCves: [{ id: 'CVE-2014-3577', reason: 'vendor patched', expiresAt: '2023-10-01T00:00:00Z' }] })], now);
    expect(allowed).toMatchObject({ compliance: 'compliant', compliantUntil: '2023-10-01T00:00:00.000Z' });
    expect(decideCompliance(r, [policy({ maxSeverity: 'low', onlyFixable: true })], now).reasons[0]!.cves.map((c) => c.id)).toEqual(['GHSA-cfh5-3ghh-wfjx']);
  });

  it('keycloak-test: six Low wont-fix rpm findings with CVSS 5.9', () => {
    const r = parseScanReport(load('grype/keycloak-test.json'), RECEIVED);
    expect(r.digest).toBe('sha256:347a0d748d05a050dc64b92de2246d2240db6eb38afbc17c3c08d0acb0db1b50');
    expect(r.reference).toBe('docker.io/keycloak/keycloak:21.0.2');
    expect(r.findings).toHaveLength(6);
    expect(r.findings.every((f) => f.id === 'CVE-2020-12413' && f.severity === 'low' && f.cvss === 5.9 && f.fixedVersion === undefined)).toBe(true);
    const now = at('2023-09-02T00:00:00Z');
    expect(decideCompliance(r, [policy({ maxCvss: 5 })], now).reasons[0]).toMatchObject({ rule: 'maxCvss', count: 6 });
    expect(decideCompliance(r, [policy({ maxCvss: 5, onlyFixable: true })], now).compliance).toBe('compliant'); // wont-fix
    expect(decideCompliance(r, [policy({ maxSeverity: 'negligible' }), policy({ maxSeverity: 'low' }, '00000000-0000-7000-8000-000000000002')], now).reasons).toHaveLength(1);
  });
});

describe('scan reports: the real CycloneDX reports (Trivy)', () => {
  // Ours, not shared: see test/fixtures/scan-reports/cyclonedx/README.md for their source.
  const cdx = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/scan-reports/cyclonedx/${name}`, import.meta.url), 'utf8')) as unknown;

  it('pom: two jackson-databind findings, severity from the advisory source, fixes from the recommendation', () => {
    const r = parseScanReport(cdx('trivy-pom.json'), RECEIVED);
    expect(r).toMatchObject({ format: 'cyclonedx', scanner: { name: 'trivy', version: 'dev' }, scannedAt: '2021-08-25T12:20:30+00:00' });
    expect(r.digest).toBeUndefined();
    expect(r.findings.map((f) => [f.id, f.package, f.installedVersion, f.fixedVersion, f.severity, f.cvss])).toEqual([
      ['CVE-2020-9548', 'com.fasterxml.jackson.core:jackson-databind', '2.9.1', '2.9.10.4', 'critical', 9.8],
      ['CVE-2021-20190', 'com.fasterxml.jackson.core:jackson-databind', '2.9.1', '2.9.10.7', 'high', 8.1],
    ]);
    const now = at('2021-09-01T00:00:00Z');
    const high = decideCompliance(r, [policy({ maxSeverity: 'high' })], now);
    expect(high).toMatchObject({ compliance: 'nonCompliant', reasons: [{ rule: 'maxSeverity', count: 1, cves: [{ id: 'CVE-2020-9548' }] }] });
    expect(decideCompliance(r, [policy({ maxSeverity: 'critical' })], now).compliance).toBe('compliant');
    expect(decideCompliance(r, [policy({ maxCvss: 8.5 })], now).reasons[0]!.cves.map((c) => c.id)).toEqual(['CVE-2020-9548']);
  });

  it('npm: jquery CVE-2019-11358 MEDIUM, fixed in 3.4.0, blocked by name whatever its severity', () => {
    const r = parseScanReport(cdx('trivy-npm.json'), RECEIVED);
    expect(r.findings).toEqual([expect.objectContaining({ id: 'CVE-2019-11358', package: 'jquery', installedVersion: '3.3.9', fixedVersion: '3.4.0', severity: 'medium', cvss: 6.1 })]);
    const now = at('2021-09-01T00:00:00Z');
    expect(decideCompliance(r, [policy({ maxSeverity: 'medium' })], now).compliance).toBe('compliant');
    expect(decideCompliance(r, [policy({ blockedCves: [{ id: 'CVE-2019-11358' }] })], now).reasons).toMatchObject([{ rule: 'blockedCves', count: 1 }]);
  });

});

describe('scan reports: malformed', () => {
  const problems = (body: unknown) => {
    try {
      parseScanReport(body, RECEIVED);
    } catch (err) {
      if (err instanceof ReportError) return err.errors;
      throw err;
    }
    throw new Error('parsed');
  };
  it('names the problem with a pointer', () => {
    expect(problems({ hello: 1 })).toEqual([{ pointer: '', detail: expect.stringMatching(/not a Trivy/) }]);
    expect(problems([1])).toEqual([{ pointer: '', detail: expect.stringMatching(/not a Trivy/) }]);
    const trivy = load('trivy/debian-buster.json') as { SchemaVersion: number; Results: Array<{ Vulnerabilities: Array<Record<string, unknown>> }> };
    expect(problems({ ...trivy, SchemaVersion: 1 })).toEqual([{ pointer: '/SchemaVersion', detail: expect.stringMatching(/2/) }]);
    const broken = structuredClone(trivy);
    delete broken.Results[0]!.Vulnerabilities[1]!.VulnerabilityID;
    expect(problems(broken)[0]!.pointer).toBe('/Results/0/Vulnerabilities/1/VulnerabilityID');
    const grype = load('grype/keycloak-test.json') as Record<string, unknown>;
    expect(problems({ ...grype, descriptor: { name: 'grype', version: '1', timestamp: 'yesterday' } })[0]!.pointer).toBe('/descriptor/timestamp');
    expect(problems({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] })[0]).toMatchObject({ pointer: '/vulnerabilities', detail: expect.stringMatching(/SBOM/) });
  });
});
