import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchesMask } from '../../schema/masks.ts';
import { clusterReportsSql, type ClusterReports } from '../../workers/agents/policy-gaps.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;

/** Cluster names over the characters masks and names share, with the shapes that trip wildcard matchers. */
const NAMES = ['a', 'b', 'ab', 'ba', 'aa', 'a-b', 'a.b', 'ab-ba', 'a--b', 'a.a.a', 'b-a.b', 'aab', 'abab', 'bbb', 'a-', '-a', '.b', 'ab.'];

beforeAll(async () => {
  acme = await h.tenant('acme');
  await database.client.query(
    `insert into clusters (tenant_id, id, name, spec, created_by, updated_by) select $1, gen_random_uuid(), n, jsonb_build_object('name', n), 't', 't' from unnest($2::text[]) n`,
    [acme.id, NAMES],
  );
});

describe('the clusters a policy reaches, as the statement that reads its gaps selects them', () => {
  it('selects by mask exactly the clusters matchesMask matches, for any mask', async () => {
    const mask = fc.array(fc.constantFrom('a', 'b', '-', '.', '*'), { minLength: 1, maxLength: 7 }).map((c) => c.join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(mask, { minLength: 1, maxLength: 3 }), async (masks) => {
        const spec = { resources: masks.map((cluster) => ({ type: 'cluster', cluster })) };
        const scopeRows = sql`select false as global, ${JSON.stringify(spec)}::jsonb as spec`;
        const result = (await database.db.execute(sql`select ${clusterReportsSql(acme.id, scopeRows, new Date())} as clusters`)) as unknown as { rows: Array<{ clusters: ClusterReports[] }> };
        const selected = result.rows[0]!.clusters.map((c) => c.name).sort();
        expect(selected).toEqual(NAMES.filter((n) => masks.some((m) => matchesMask(m, n))).sort());
      }),
      { numRuns: 150 },
    );
  });

  it('a global scope reaches every cluster; registry resources reach none', async () => {
    const read = async (global: boolean, resources: unknown[]) => {
      const scopeRows = sql`select ${global}::boolean as global, ${JSON.stringify({ resources })}::jsonb as spec`;
      const result = (await database.db.execute(sql`select ${clusterReportsSql(acme.id, scopeRows, new Date())} as clusters`)) as unknown as { rows: Array<{ clusters: ClusterReports[] }> };
      return result.rows[0]!.clusters.length;
    };
    expect(await read(true, [])).toBe(NAMES.length);
    expect(await read(false, [{ type: 'registry', registry: '*' }])).toBe(0);
    expect(await read(false, [{ type: 'namespace', cluster: 'a*', namespace: 'web' }])).toBe(NAMES.filter((n) => n.startsWith('a')).length);
  });

  it('a page mixing disabled and enabled policies shows the gaps of the enabled one', async () => {
    const scope = await acme.json('POST', '/v1/scopes', { name: 'a-star', resources: [{ type: 'cluster', cluster: 'a.*' }] });
    const off = await acme.json('POST', '/v1/runtime-policies', { name: 'off', enabled: false, mode: 'enforce', scopeIds: [scope.body.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
    const on = await acme.json('POST', '/v1/runtime-policies', { name: 'on', mode: 'enforce', scopeIds: [scope.body.id], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
    expect([off.status, on.status]).toEqual([201, 201]);
    const gaps = (p: any) => p.enforcement.notEnforcedIn.map((c: any) => `${c.clusterName}:${c.sections.join(',')}`);
    expect(gaps(on.body)).toEqual(['a.a.a:capabilitiesBlock', 'a.b:capabilitiesBlock']);
    const items = (await acme.json('GET', '/v1/runtime-policies')).body.items;
    expect(items.map((p: any) => [p.name, gaps(p)])).toEqual([
      ['off', []],
      ['on', ['a.a.a:capabilitiesBlock', 'a.b:capabilitiesBlock']],
    ]);
  });
});
