import { eq, sql } from 'drizzle-orm';
import { runtimePolicies } from '../schema/tables/index.ts';
import { inTenant } from '../workers/db/db.ts';
import { loadBundleSources } from '../workers/bundles/bundle.store.ts';
import { compileBundle } from '../workers/bundles/bundle.compile.ts';
import { openPostgres } from '../workers/node.ts';
import { scratchDatabase } from './scratch-db.ts';
import { seedTenant } from './seed.ts';
import { fmt, median, report, timeRuns } from './stats.ts';

const RUNS = 7;

/**
 * The bundle refresh rows of the bundles bench on a real Postgres server (production runs on Neon; the rows above are
 * on PGlite, whose JavaScript serialisation of megabyte parameters dominates storing a new revision). Same tenant
 * shape, same edit, the same JSON.stringify baseline measured in this run. Wall time: here the database is another
 * process, so this process's CPU would leave out its part.
 */
export async function benchBundlesPostgres(): Promise<void> {
  const title = 'Bundle refresh on Postgres: 1,000 policies, 200 profiles';
  const scratch = await scratchDatabase(title);
  if (!scratch) return;
  const database = await openPostgres(scratch.url);
  try {
    const big = await seedTenant(database, { policies: 1000, profiles: 200 });
    const jws = await (await big.app.request('/v1/agent/bundle', { headers: { authorization: `Bearer ${big.credential}` } })).text();
    const tid = (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { tid: string }).tid;
    const content = compileBundle((await inTenant(database.db, tid, (tx) => loadBundleSources(tx, tid, big.clusterId)))!);
    const [edited] = await database.db.select({ id: runtimePolicies.id }).from(runtimePolicies).where(eq(runtimePolicies.tenantId, tid)).limit(1);
    let n = 0;
    const edit = async () => void (await database.db.execute(sql`update runtime_policies set spec = jsonb_set(spec, '{description}', ${JSON.stringify(`edit ${n++}`)}::jsonb) where id = ${edited!.id}`));
    const refresh = async () => {
      await database.db.execute(sql`update cluster_bundles set stale = true`);
      big.app.bundles.changes.tenantChanged(tid);
      await big.app.bundles.current(database.db, tid, big.clusterId);
    };
    const stringify = await timeRuns(RUNS, () => JSON.stringify(content));
    const full = await timeRuns(RUNS, refresh);
    const changed = await timeRuns(RUNS, async () => {
      await edit();
      await refresh();
    });
    const stringifyAfter = await timeRuns(RUNS, () => JSON.stringify(content));
    const base = median([...stringify, ...stringifyAfter]);
    const x = (ms: number[]) => `wall ${fmt(median(ms))} ms = ${fmt(median(ms) / base, 1)}x baseline`;
    report(`${title} (${(jws.length / 1024).toFixed(0)} KiB JWS), median of ${RUNS}, ratios to JSON.stringify of the content`, [
      ['full refresh (content unchanged, as before)', x(full)],
      ['full refresh after a policy edit (+ new revision, sign, gzip, store)', x(changed)],
      ['baseline: JSON.stringify of the content', `wall ${fmt(base)} ms`],
    ]);
  } finally {
    await database.close();
    await scratch.drop();
  }
}
