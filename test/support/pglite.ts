import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { inject } from 'vitest';
import type { Db } from '../../workers/db/db.ts';
import type { NodeDatabase } from '../../workers/node.ts';

/** A fresh, migrated, in-memory PGlite for one test file. Close it in afterAll. */
export async function testPglite(): Promise<NodeDatabase & { client: PGlite }> {
  const dump = readFileSync(inject('migratedDump'));
  const client = new PGlite({ loadDataDir: new Blob([dump]) });
  const db = drizzle(client) as unknown as Db;
  return { db, client, open: () => ({ db, close: async () => {} }), close: () => client.close() };
}
