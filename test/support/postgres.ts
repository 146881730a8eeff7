import { randomUUID } from 'node:crypto';
import { neonConfig, Pool as NeonPool } from '@neondatabase/serverless';
import { drizzle as drizzleNeon } from 'drizzle-orm/neon-serverless';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { WebSocket } from 'ws';
import type { Database, Db } from '../../workers/db/db.ts';
import { MIGRATIONS_DIR } from '../../workers/node.ts';
import { startNeonProxy, type NeonProxy } from './neon-proxy.ts';

/** A real Postgres server for the tests under test/postgres and test/worker, e.g. postgres://postgres@127.0.0.1:5432/postgres. */
export const pgUrl = process.env.PALISADE_TEST_PG_URL || undefined;

/** True (and says so once, plainly) when the real-Postgres tests of `file` must be skipped; use with `describe.skipIf`. */
export function skipWithoutPostgres(file: string): boolean {
  if (!pgUrl) console.log(`Skipped the real-Postgres tests in ${file}: PALISADE_TEST_PG_URL is unset.`);
  return !pgUrl;
}

export interface TestPostgres {
  /** The per-file database and its connection string. */
  name: string;
  url: string;
  /** The local Neon WebSocket proxy in front of the server. */
  proxy: NeonProxy;
  /** The production driver: a Neon `Pool` per request through the proxy, like the Workers entry. */
  database: Database;
  /** node-postgres as the (superuser) migrating role, for checks directly in SQL. */
  admin: pg.Pool;
  /** Closes everything and drops the database. */
  close(): Promise<void>;
}

/** The settings the Workers entry applies for PALISADE_NEON_WS_PROXY, here for the Neon driver inside Node. */
function useLocalProxy(proxy: string): void {
  neonConfig.webSocketConstructor = WebSocket as never;
  neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineConnect = false;
  neonConfig.pipelineTLS = false;
  neonConfig.forceDisablePgSSL = true;
}

async function onServer(statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Waits (up to 10 s) until no session is connected to database `name`. */
async function sessionsGone(name: string): Promise<void> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const { rows } = await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [name]);
      if (rows[0].n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await client.end();
  }
}

/**
 * A fresh, migrated database for one test file on the server at PALISADE_TEST_PG_URL. Close it in afterAll. With
 * `owner`, the database belongs to that role, created if missing as Neon creates a project's owner (LOGIN, CREATEROLE,
 * CREATEDB, not a superuser), and everything (migrations, `admin`, the app) connects as it.
 */
export async function testPostgres(options: { owner?: string } = {}): Promise<TestPostgres> {
  if (!pgUrl) throw new Error('PALISADE_TEST_PG_URL is unset');
  const name = `palisade_t_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const { owner } = options;
  if (owner) {
    if (!/^[a-z_][a-z0-9_]*$/.test(owner)) throw new Error(`not a plain role name: ${owner}`);
    await onServer(`DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${owner}') THEN CREATE ROLE ${owner} LOGIN NOSUPERUSER CREATEROLE CREATEDB; END IF; END $$`);
  }
  await onServer(`CREATE DATABASE ${name}${owner ? ` OWNER ${owner}` : ''}`);
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  if (owner) url.username = owner;
  const admin = new pg.Pool({ connectionString: url.href, max: 4 });
  let proxy: NeonProxy | undefined;
  const close = async () => {
    await admin.end();
    await proxy?.close();
    // pg-pool's end() resolves before its clients' sockets have closed; a FORCE drop that terminates a backend
    // still closing reaches that client as an uncaught 57P01 error. Let the sessions go first.
    await sessionsGone(name);
    await onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  };
  try {
    await migrate(drizzleNodePg(admin), { migrationsFolder: MIGRATIONS_DIR });
    proxy = await startNeonProxy(`${url.hostname}:${url.port || 5432}`);
    useLocalProxy(proxy.address);
  } catch (err) {
    await close();
    throw err;
  }
  const database: Database = {
    open() {
      const pool = new NeonPool({ connectionString: url.href });
      return { db: drizzleNeon(pool) as unknown as Db, close: () => pool.end() };
    },
  };
  return { name, url: url.href, proxy, database, admin, close };
}
