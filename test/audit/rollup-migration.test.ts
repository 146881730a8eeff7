import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR } from '../../workers/node.ts';

/** The migrations folder as it was before `tag` (journal cut there), for a database to upgrade from. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalFile = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: Array<{ tag: string }> };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at < 0) throw new Error(`no migration ${tag}`);
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return dir;
}

describe('migration 0019 (per-check rollup rows folded into a checks map)', () => {
  const client = new PGlite();
  const old = migrationsBefore('0019_rollup_checks');
  afterAll(async () => {
    await client.close();
    rmSync(old, { recursive: true, force: true });
  });

  it('keeps every count: each tuple row takes the counts of its per-check rows, which go', async () => {
    const db = drizzle(client);
    await migrate(db, { migrationsFolder: old });
    const tenant = '0190f0a0-0000-7000-8000-0000000000aa';
    const row = (granularity: string, bucket: string, workload: string, check: string, count: number) =>
      client.query(
        `insert into audit_rollups (tenant_id, granularity, bucket, cluster_id, namespace, policy_id, check_id, verdict, severity, kind, image, workload, count)
         values ($1, $2, $3, 'c1', 'shop', 'p1', $4, 'blocked', 'high', 'admission', 'nginx:1', $5, $6)`,
        [tenant, granularity, bucket, check, workload, count],
      );
    // Tuple A: 5 groups, 4 with registriesAllowed, 2 with capabilitiesBlock; tuple B: 3 groups without checks.
    await row('hour', '2026-05-01T10:00:00Z', 'shop/Deployment/a', '', 5);
    await row('hour', '2026-05-01T10:00:00Z', 'shop/Deployment/a', 'registriesAllowed', 4);
    await row('hour', '2026-05-01T10:00:00Z', 'shop/Deployment/a', 'capabilitiesBlock', 2);
    await row('day', '2026-05-01T00:00:00Z', 'shop/Deployment/a', '', 5);
    await row('day', '2026-05-01T00:00:00Z', 'shop/Deployment/a', 'registriesAllowed', 4);
    await row('hour', '2026-05-01T11:00:00Z', 'shop/Deployment/b', '', 3);

    await migrate(db, { migrationsFolder: MIGRATIONS_DIR });
    const { rows } = await client.query<{ granularity: string; workload: string; count: string; checks: Record<string, number> }>(
      `select granularity, workload, count::text, checks from audit_rollups order by granularity, workload`,
    );
    expect(rows).toEqual([
      { granularity: 'day', workload: 'shop/Deployment/a', count: '5', checks: { registriesAllowed: 4 } },
      { granularity: 'hour', workload: 'shop/Deployment/a', count: '5', checks: { registriesAllowed: 4, capabilitiesBlock: 2 } },
      { granularity: 'hour', workload: 'shop/Deployment/b', count: '3', checks: {} },
    ]);
  });
});
