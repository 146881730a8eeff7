import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
/** Any drizzle Postgres database: PGlite, node-postgres or the Neon WebSocket pool. */
export type Db = PgDatabase<PgQueryResultHKT>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** A database for one request; on Workers the pool lives only as long as the request. */
export interface DatabaseHandle {
  db: Db;
  close(): Promise<void>;
}
export interface Database {
  open(): DatabaseHandle;
}

/**
 * Runs `fn` in a transaction that row-level security confines to one tenant: the role switches to `palisade_app`
 * (neither owner nor superuser) and `app.tenant_id` is set, both transaction-local.
 */
export function inTenant<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_app', true), set_config('app.tenant_id', ${tenantId}, true)`);
    return fn(tx);
  });
}

/** A transaction as `palisade_app` that can see exactly one API key: the one whose secret hashes to `keyHash`. */
export function bySecretHash<T>(db: Db, keyHash: string, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_app', true), set_config('app.key_hash', ${keyHash}, true)`);
    return fn(tx);
  });
}

/** Switches an open transaction to another tenant (after the API key told us which). */
export async function enterTenant(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`select set_config('app.tenant_id', ${tenantId}, true), set_config('app.key_hash', '', true)`);
}
