import { Pool as NeonPool } from '@neondatabase/serverless';
import { drizzle as drizzleNeon } from 'drizzle-orm/neon-serverless';
import type { Database, Db } from '../../workers/db/db.ts';

/** What one stretch of requests sent to the database: every statement's text, in order (BEGIN and COMMIT included). */
export interface StatementLog {
  statements: string[];
  /** Statements that open a transaction. */
  readonly transactions: number;
  reset(): void;
}

const textOf = (args: unknown[]) => {
  const first = args[0] as string | { text?: string } | undefined;
  return (typeof first === 'string' ? first : (first?.text ?? '')).trim().replace(/\s+/g, ' ');
};

/**
 * The production driver (a Neon `Pool` per request, as `testPostgres().database` opens it; the proxy settings are the
 * ones `testPostgres` applied) with every statement it sends logged: on the pool itself and on each client a
 * transaction checks out. Counted at the driver, so it sees what drizzle and the code above it really send.
 */
export function countingDatabase(url: string): { database: Database; log: StatementLog } {
  const statements: string[] = [];
  const log: StatementLog = {
    statements,
    get transactions() {
      return statements.filter((s) => /^begin\b/i.test(s)).length;
    },
    reset: () => void statements.splice(0),
  };
  const counted = <T extends { query: (...args: any[]) => any }>(target: T): T => {
    const query = target.query.bind(target);
    target.query = ((...args: unknown[]) => {
      statements.push(textOf(args));
      return query(...args);
    }) as T['query'];
    return target;
  };
  const database: Database = {
    open() {
      const pool = counted(new NeonPool({ connectionString: url }));
      const connect = pool.connect.bind(pool) as () => Promise<{ query: (...args: any[]) => any }>;
      const seen = new WeakSet<object>();
      (pool as { connect: unknown }).connect = async () => {
        const client = await connect();
        if (!seen.has(client)) counted(client), seen.add(client);
        return client;
      };
      return { db: drizzleNeon(pool) as unknown as Db, close: () => pool.end() };
    },
  };
  return { database, log };
}
