import { randomUUID } from 'node:crypto';
import pg from 'pg';

/**
 * A database of its own on the Postgres server the benches are given (PALISADE_TEST_PG_URL or DATABASE_URL), dropped
 * by `drop()`; undefined (with the reason printed under `title`) when none is set.
 */
export async function scratchDatabase(title: string): Promise<{ url: string; drop: () => Promise<void> } | undefined> {
  const server = process.env.PALISADE_TEST_PG_URL || process.env.DATABASE_URL;
  if (!server) {
    console.log(`\n## ${title}: skipped (set PALISADE_TEST_PG_URL or DATABASE_URL to a Postgres server)`);
    return undefined;
  }
  const name = `palisade_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const onServer = async (statement: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    await client.query(statement).finally(() => client.end());
  };
  await onServer(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.href, drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}
