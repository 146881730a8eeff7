import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformState } from '../../schema/tables/index.ts';
import { inTenant, type Db } from '../../workers/db/db.ts';
import { sqlState } from '../../workers/db/errors.ts';
import { bootstrap } from '../../workers/node.ts';
import { testPglite } from '../support/pglite.ts';
import { skipWithoutPostgres, testPostgres } from '../support/postgres.ts';

const KEY = `psk_${'platform-state-test-key-0123456789'}`;

function suite(open: () => Promise<{ db: Db; close(): Promise<void> }>) {
  let backend: Awaited<ReturnType<typeof open>>;
  let tenantId: string;
  beforeAll(async () => {
    backend = await open();
    const created = await bootstrap(backend.db, KEY);
    if (created.kind !== 'created') throw new Error(`bootstrap: ${created.kind}`);
    tenantId = created.tenant.id;
  });
  afterAll(() => backend?.close());

  it('bootstraps once: the connecting role still reads and writes it', async () => {
    expect(await bootstrap(backend.db, KEY)).toEqual({ kind: 'unchanged' });
  });

  it('is closed to tenant transactions and background jobs', async () => {
    const asApp = await inTenant(backend.db, tenantId, (tx) => tx.select().from(platformState)).catch((e: unknown) => e);
    expect(sqlState(asApp)).toBe('42501');
    const asSystem = await backend.db
      .transaction(async (tx) => {
        await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
        return tx.delete(platformState);
      })
      .catch((e: unknown) => e);
    expect(sqlState(asSystem)).toBe('42501');
  });
}

describe('platform_state on PGlite', () => {
  suite(async () => {
    const database = await testPglite();
    return { db: database.db, close: () => database.close() };
  });
});

describe.skipIf(skipWithoutPostgres('test/postgres/platform-state.test.ts'))('platform_state on real Postgres', () => {
  suite(async () => {
    const pgdb = await testPostgres();
    const handle = pgdb.database.open();
    return { db: handle.db, close: async () => (await handle.close(), await pgdb.close()) };
  });
});
