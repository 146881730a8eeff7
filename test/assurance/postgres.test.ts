import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTenant } from '../../workers/db/db.ts';
import { recomputeLapsedCompliance } from '../../workers/assurance/lapse.ts';
import { generateCredentialsKey, importCredentialsKey } from '../../workers/registries/credentials.ts';
import { syncDueRegistries } from '../../workers/registries/sync.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

const report = (name: string) => JSON.parse(readFileSync(new URL(`../../../shared/fixtures/scan-reports/${name}`, import.meta.url), 'utf8')) as unknown;

describe.skipIf(skipWithoutPostgres('test/assurance/postgres.test.ts'))('image assurance on real Postgres through the Neon driver', { timeout: 60_000 }, () => {
  let pgdb: TestPostgres;
  let acme: TenantClient;
  let globex: TenantClient;
  const clock = { now: new Date('2023-09-02T00:00:00Z') };
  beforeAll(async () => {
    pgdb = await testPostgres();
    const credentialsKey = await importCredentialsKey(generateCredentialsKey());
    const h = harness(pgdb.database, { now: () => clock.now, registries: { credentialsKey, resolve: async () => ['203.0.113.9'] } });
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
  });
  afterAll(() => pgdb?.close());

  it('stores scans, decides compliance and keeps each tenant to its own rows (RLS forced on the new tables)', async () => {
    const scope = (await acme.json('POST', '/v1/scopes', { name: 'hub', resources: [{ type: 'registry', registry: 'docker.io/keycloak' }] })).body.id;
    expect((await acme.json('POST', '/v1/assurance-policies', { name: 'cvss', scopeIds: [scope], maxCvss: 5 })).status).toBe(201);
    const posted = await acme.json('POST', '/v1/images/scan-results', report('grype/keycloak-test.json'));
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    const image = await acme.json('POST', '/v1/images', { reference: 'docker.io/keycloak/keycloak:21.0.2', digest: posted.body.digest });
    expect(image.body).toMatchObject({ compliance: 'nonCompliant', complianceReasons: [{ rule: 'maxCvss', count: 6 }] });
    // Globex posts the same report: its own row, its own verdict (no policy there: compliant).
    expect((await globex.json('POST', '/v1/images/scan-results', report('grype/keycloak-test.json'))).status).toBe(201);
    const theirs = await globex.json('POST', '/v1/images', { reference: 'docker.io/keycloak/keycloak', digest: posted.body.digest });
    expect(theirs.body.compliance).toBe('compliant');

    const forced = await pgdb.admin.query(`select relname from pg_class where relname in ('image_scans', 'assurance_policies') and relrowsecurity and relforcerowsecurity order by relname`);
    expect(forced.rows.map((r) => r.relname)).toEqual(['assurance_policies', 'image_scans']);
    const handle = pgdb.database.open();
    try {
      const rows = (r: unknown) => (r as { rows: unknown[] }).rows;
      const seen = await inTenant(handle.db, acme.id, async (tx) => ({
        scans: rows(await tx.execute(sql`select tenant_id from image_scans`)),
        policies: rows(await tx.execute(sql`select tenant_id from assurance_policies`)),
      }));
      expect(seen.scans).toEqual([{ tenant_id: acme.id }]);
      expect(seen.policies).toEqual([{ tenant_id: acme.id }]);
      // Writing a row for another tenant is refused by the policy's WITH CHECK.
      await expect(
        inTenant(handle.db, acme.id, (tx) => tx.execute(sql`insert into image_scans (tenant_id, digest, format, scanner_name, scanner_version, scanned_at, counts, findings, received_by) values (${globex.id}, 'sha256:x', 'trivy', 't', 'v', now(), '{}', '[]', 'x')`)),
      ).rejects.toThrow();
      // The system role reads registries and images across tenants, and none of the scans.
      const system = await handle.db.transaction(async (tx) => {
        await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
        const images = rows(await tx.execute(sql`select count(*)::int as n from images`))[0];
        const scans = await tx.execute(sql`select count(*)::int as n from image_scans`).then((r) => rows(r)[0], (e: Error) => ({ error: (e.cause as Error | undefined)?.message ?? e.message }));
        return { images, scans };
      });
      expect(system.images).toEqual({ n: 2 });
      expect(system.scans).toEqual({ n: 0 }); // no policy names the role: row-level security shows it nothing
    } finally {
      await handle.close();
    }
  });

  it('runs the background jobs across tenants: lapsed verdicts and due registry syncs', async () => {
    const scope = (await globex.json('POST', '/v1/scopes', { name: 'hub', resources: [{ type: 'registry', registry: 'docker.io' }] })).body.id;
    const policy = await globex.json('POST', '/v1/assurance-policies', { name: 'fresh', scopeIds: [scope], maxScanAgeDays: 2 });
    expect(policy.status).toBe(201);
    const before = (await globex.json('GET', '/v1/images?reference=docker.io/keycloak/keycloak')).body.items[0];
    expect(before).toMatchObject({ compliance: 'compliant', compliantUntil: '2023-09-03T12:13:42.201Z' });
    const handle = pgdb.database.open();
    try {
      expect(await recomputeLapsedCompliance(handle.db, new Date('2023-09-04T00:00:00Z'))).toEqual({ changed: 1, tenants: [globex.id] });
      // A registry due for sync whose host resolves (here) to a documentation address: the attempt fails and is recorded.
      const reg = await globex.json('POST', '/v1/registries', { name: 'r', url: 'registry.example.test/team', sync: { enabled: true, repositories: ['team/a'] } });
      expect(reg.status, JSON.stringify(reg.body)).toBe(201);
      const pass = await syncDueRegistries(handle.db, { fetch, resolve: async () => ['203.0.113.9'], allowLoopback: false, now: () => clock.now });
      expect(pass.synced).toBe(1);
    } finally {
      await handle.close();
    }
    expect((await globex.json('GET', '/v1/images?reference=docker.io/keycloak/keycloak')).body.items[0]).toMatchObject({ compliance: 'nonCompliant', complianceReasons: [{ rule: 'maxScanAgeDays' }] });
    const status = (await globex.json('GET', '/v1/registries?name=r')).body.items[0].syncStatus;
    expect(status).toMatchObject({ state: 'failed', errors: [{ repository: 'team/a', message: expect.stringMatching(/reserved address/) }] });
  });
});
