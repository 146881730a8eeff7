import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { bootstrapKeyProblem, MIN_BOOTSTRAP_KEY_LENGTH } from '../../workers/auth/api-keys.crypto.ts';
import { bootstrap, MIGRATIONS_DIR } from '../../workers/node.ts';
import { harness, keyWithRoles } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);

/** Every substring of the secret's random part this long would be a leak. */
const leaks = (text: string, secret: string, n = 6) => {
  const body = secret.replace(/^psk_/, '');
  for (let i = 0; i + n <= body.length; i++) if (text.includes(body.slice(i, i + n))) return body.slice(i, i + n);
  return undefined;
};

describe('principals are named by the key id, never by any part of the secret', () => {
  it('a read-only key learns nothing of the bootstrap key from createdBy, updatedBy, changedBy or key listings', async () => {
    const secret = `psk_${'Zq9'.repeat(11)}`; // a chosen key, as PALISADE_BOOTSTRAP_KEY
    const created = await bootstrap(database.db, secret);
    if (created.kind !== 'created') throw new Error(`bootstrap: ${created.kind}`);
    const admin = h.as({ id: created.tenant.id, name: 'default', key: secret } as never, secret);
    const scope = await admin.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    expect(scope.status).toBe(201);
    const policy = await admin.json('POST', '/v1/runtime-policies', { name: 'p', mode: 'audit', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    await admin.json('PATCH', `/v1/runtime-policies/${policy.body.id}`, { mode: 'enforce' }, { 'content-type': 'application/merge-patch+json' });
    expect((await admin.json('PUT', '/v1/settings/file-threat-protection', { mailScanning: true })).status).toBe(200);

    const keys = await admin.json('GET', '/v1/api-keys');
    const adminKey = keys.body.items.find((k: { name: string }) => k.name === 'initial administrator key');
    expect(adminKey).toBeDefined();
    expect(scope.body.createdBy).toBe(`apiKey:${adminKey.id}`);

    const reader = h.as(admin, await keyWithRoles(admin, ['auditor']));
    const seen = await Promise.all(
      ['/v1/api-keys', '/v1/scopes', '/v1/runtime-policies', `/v1/runtime-policies/${policy.body.id}/revisions`, '/v1/roles', '/v1/settings/file-threat-protection'].map((p) => reader.json('GET', p)),
    );
    for (const res of seen) {
      expect(res.status).toBe(200);
      expect(leaks(JSON.stringify(res.body), secret)).toBeUndefined();
    }
    // No key document carries any part of its secret, and every principal is `apiKey:<id>`.
    for (const key of seen[0]!.body.items) expect(key).not.toHaveProperty('prefix');
    const revisions = seen[3]!.body.items as Array<{ changedBy: string }>;
    expect(revisions.map((r) => r.changedBy)).toEqual(revisions.map(() => `apiKey:${adminKey.id}`));
    const stored = await database.client.query<Record<string, unknown>>('select * from api_keys');
    expect(leaks(JSON.stringify(stored.rows), secret)).toBeUndefined();
  }, 120_000);
});

describe('bootstrap keys', () => {
  it(`refuses keys shorter than ${MIN_BOOTSTRAP_KEY_LENGTH} characters with one line that says what to do`, async () => {
    expect(MIN_BOOTSTRAP_KEY_LENGTH).toBeGreaterThanOrEqual(32);
    for (const weak of ['psk_demo', 'x'.repeat(MIN_BOOTSTRAP_KEY_LENGTH - 1), `${'a'.repeat(40)} b`, `psk_${'é'.repeat(40)}`]) {
      const problem = bootstrapKeyProblem(weak);
      expect(problem).toMatch(/^PALISADE_BOOTSTRAP_KEY /);
      expect(problem).not.toContain('\n');
      expect(problem).not.toContain(weak);
    }
    expect(bootstrapKeyProblem(undefined)).toBeUndefined();
    expect(bootstrapKeyProblem(`psk_${'k3Y-'.repeat(8)}`)).toBeUndefined();
    const fresh = await testPglite();
    try {
      await expect(bootstrap(fresh.db, 'psk_demo')).rejects.toThrow(/at least 32 characters/);
      const tenants = await fresh.client.query('select 1 from tenants');
      expect(tenants.rows).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

describe('the migration to key ids', () => {
  it('renames principals recorded by prefix to the key id, and blanks out the ones it cannot attribute', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-mig-'));
    const client = new PGlite();
    try {
      // The schema as it stood before principal ids (every migration before it).
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const journalFile = join(dir, 'meta/_journal.json');
      const journal = JSON.parse(readFileSync(journalFile, 'utf8'));
      const full = structuredClone(journal);
      const at = journal.entries.findIndex((e: { tag: string }) => e.tag.endsWith('_principal_ids'));
      expect(at).toBeGreaterThan(0);
      journal.entries = journal.entries.slice(0, at);
      writeFileSync(journalFile, JSON.stringify(journal));
      const db = drizzle(client);
      await migrate(db, { migrationsFolder: dir });
      const t = '01900000-0000-7000-8000-000000000001';
      const k = '01900000-0000-7000-8000-000000000002';
      await client.exec(`
        insert into tenants (id, name) values ('${t}', 'old');
        insert into api_keys (tenant_id, id, name, spec, prefix, key_hash, created_by, updated_by)
          values ('${t}', '${k}', 'admin', '{"name":"admin","roleIds":[]}', 'psk_demo', 'h1', 'bootstrap', 'apiKey:psk_demo');
        insert into scopes (tenant_id, id, name, spec, created_by, updated_by)
          values ('${t}', '01900000-0000-7000-8000-000000000003', 's', '{}', 'apiKey:psk_demo', 'apiKey:psk_gone1234');
        insert into runtime_policy_revisions (tenant_id, policy_id, revision, action, document, changes, changed_by)
          values ('${t}', '01900000-0000-7000-8000-000000000004', 1, 'create', '{}', '[]', 'apiKey:psk_demo');
      `);
      writeFileSync(journalFile, JSON.stringify(full));
      await migrate(db, { migrationsFolder: dir });
      const scopes = await client.query('select created_by, updated_by from scopes');
      expect(scopes.rows).toEqual([{ created_by: `apiKey:${k}`, updated_by: 'apiKey:unknown' }]);
      const keys = await client.query('select created_by, updated_by from api_keys');
      expect(keys.rows).toEqual([{ created_by: 'bootstrap', updated_by: `apiKey:${k}` }]);
      const revisions = await client.query('select changed_by from runtime_policy_revisions');
      expect(revisions.rows).toEqual([{ changed_by: `apiKey:${k}` }]);
      const columns = await client.query(`select 1 from information_schema.columns where table_name = 'api_keys' and column_name = 'prefix'`);
      expect(columns.rows).toEqual([]);
    } finally {
      await client.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
