import type { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Database, Db } from '../../workers/db/db.ts';

/**
 * PGlite wrapped at the driver: every statement sent counts, transaction control included (BEGIN and COMMIT as two),
 * so a figure is what a network database would see as round trips.
 */
export function countingDatabase(client: PGlite): { database: Database; db: Db; statements: () => number } {
  let statements = 0;
  type Q = Pick<PGlite, 'query'>;
  const wrap = <T extends Q>(target: T): T =>
    new Proxy(target, {
      get(t, prop, receiver) {
        if (prop === 'query') return (...args: Parameters<PGlite['query']>) => (statements++, t.query(...args));
        if (prop === 'transaction') {
          return (fn: (tx: Q) => Promise<unknown>) => {
            statements += 2;
            return (t as unknown as PGlite).transaction((tx) => fn(wrap(tx)));
          };
        }
        const value = Reflect.get(t, prop, receiver);
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  const db = drizzle(wrap(client) as PGlite) as unknown as Db;
  return { database: { open: () => ({ db, close: async () => {} }) }, db, statements: () => statements };
}
