import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bySecretHash, type Db } from '../../workers/db/db.ts';
import { sqlState } from '../../workers/db/errors.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

/** The tables a pre-auth lookup may touch by secret hash, their hash column and a column the lookup legitimately sets. */
const TABLES = [
  ['api_keys', 'key_hash', 'last_used_at'],
  ['cluster_credentials', 'secret_hash', 'last_used_at'],
  ['enrollment_tokens', 'token_hash', 'used_at'],
] as const;

interface Backend {
  db: Db;
  query(text: string): Promise<Array<Record<string, any>>>;
}

function suite(open: () => Promise<Backend & { h: ReturnType<typeof harness>; close(): Promise<void> }>) {
  let backend: Awaited<ReturnType<typeof open>>;
  let acme: TenantClient;
  let globex: TenantClient;
  beforeAll(async () => {
    backend = await open();
    acme = await backend.h.tenant('acme');
    globex = await backend.h.tenant('globex');
    await enrolledCluster(backend.h, acme, 'prod');
    // One more, unused enrollment token.
    const cluster = (await acme.json('GET', '/v1/clusters')).body.items[0].id;
    await acme.json('POST', `/v1/clusters/${cluster}/enrollment-tokens`, {});
  });
  afterAll(() => backend?.close());

  for (const [table, hashColumn, touched] of TABLES) {
    it(`${table}: the holder of a secret may touch its row but never move it to another tenant`, async () => {
      const rows = await backend.query(`select ${hashColumn} as hash from ${table} where tenant_id = '${acme.id}'`);
      expect(rows.length).toBeGreaterThan(0);
      const hash = rows[0]!.hash as string;
      const move = bySecretHash(backend.db, hash, (tx) => tx.execute(sql`update ${sql.identifier(table)} set tenant_id = ${globex.id}${table === 'api_keys' ? sql`, name = 'moved'` : sql``} where ${sql.identifier(hashColumn)} = ${hash}`));
      const err = await move.then(() => undefined, (e: unknown) => e);
      expect(sqlState(err)).toBe('42501'); // new row violates row-level security policy
      const touch = await bySecretHash(backend.db, hash, (tx) =>
        tx.execute(sql`update ${sql.identifier(table)} set ${sql.identifier(touched)} = now() where ${sql.identifier(hashColumn)} = ${hash} returning tenant_id`),
      );
      expect((touch as unknown as { rows: unknown[] }).rows).toEqual([{ tenant_id: acme.id }]);
      expect(await backend.query(`select tenant_id from ${table} where ${hashColumn} = '${hash}'`)).toEqual([{ tenant_id: acme.id }]);
    });
  }
}

describe('secret-hash lookups on PGlite', () => {
  suite(async () => {
    const database = await testPglite();
    return {
      db: database.db,
      h: harness(database),
      query: async (text) => (await database.client.query<Record<string, any>>(text)).rows,
      close: () => database.close(),
    };
  });
});

describe.skipIf(skipWithoutPostgres('test/postgres/secret-lookup-rls.test.ts'))('secret-hash lookups on real Postgres (Neon driver)', () => {
  suite(async () => {
    const pgdb: TestPostgres = await testPostgres();
    const handle = pgdb.database.open();
    return {
      db: handle.db,
      h: harness(pgdb.database),
      query: async (text) => (await pgdb.admin.query(text)).rows,
      close: async () => {
        await handle.close();
        await pgdb.close();
      },
    };
  });
});
