import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeSignatureSets } from '../../schema/file-signature-sets.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type Harness, type TenantClient } from '../support/harness.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';

const ndb = (i: number) => `Pg.Set${i}:0:*:${(0xa0 + i).toString(16)}b1c2d3\n`;

describe.skipIf(skipWithoutPostgres('test/postgres/file-signatures.test.ts'))('signature sets on real Postgres through the Neon driver', () => {
  let pgdb: TestPostgres;
  let h: Harness;
  let acme: TenantClient;
  let globex: TenantClient;
  beforeAll(async () => {
    pgdb = await testPostgres();
    h = harness(pgdb.database);
    acme = await h.tenant('acme');
    globex = await h.tenant('globex');
  });
  afterAll(() => pgdb?.close());

  it('concurrent uploads each raise the effective version once, and the merged set holds every one of them', async () => {
    const created = await Promise.all([1, 2, 3, 4, 5].map((i) => acme.json('POST', '/v1/file-signature-sets', { name: `set-${i}`, format: 'ndb', content: ndb(i) })));
    expect(created.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const facts = (await acme.json('GET', '/v1/file-signatures')).body;
    const expected = await mergeSignatureSets(created.map((r) => [{ type: 'body', name: `Pg.Set${r.body.name.slice(4)}`, target: 'any', offset: '*', pattern: r.body.content.trim().split(':')[3] }] as never));
    expect(facts).toMatchObject({ version: 6, signatureCount: 6, digest: expected.digest });
    const doc = await (await acme.request('GET', '/v1/file-signatures/document')).text();
    expect(doc).toBe(expected.canonical);

    const agent = await enrolledCluster(h, acme, 'prod-eu');
    const res = await agentRequest(h, agent.credential, '/v1/agent/file-signatures');
    expect(res.status).toBe(200);
    expect(res.headers.get('palisade-signatures-digest')).toBe(expected.digest);
    expect((await agentRequest(h, agent.credential, '/v1/agent/file-signatures', { headers: { 'if-none-match': res.headers.get('etag')! } })).status).toBe(304);
  });

  it("another tenant's requests and transactions see none of the sets or the effective set", async () => {
    const set = (await acme.json('GET', '/v1/file-signature-sets?name=set-1')).body.items[0];
    for (const [method, body] of [['GET'], ['PUT', { name: 'set-1', format: 'ndb', content: 'X:0:*:0000\n' }], ['DELETE']] as const) {
      expect((await globex.json(method, `/v1/file-signature-sets/${set.id}`, body)).status, method).toBe(404);
    }
    expect((await globex.json('GET', '/v1/file-signatures')).body).toMatchObject({ version: 1, signatureCount: 1 });

    const client = await pgdb.admin.connect();
    try {
      for (const tenant of [undefined, globex.id]) {
        await client.query('BEGIN');
        await client.query('SET LOCAL ROLE palisade_app');
        if (tenant) await client.query(`SELECT set_config('app.tenant_id', $1, true)`, [tenant]);
        for (const table of ['file_signature_sets', 'file_signatures_effective']) {
          const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`, [acme.id]);
          expect(rows[0].n, `${table} as ${tenant ?? 'no tenant'}`).toBe(0);
        }
        const { rowCount } = await client.query(`UPDATE file_signatures_effective SET content = '{}' WHERE tenant_id = $1`, [acme.id]);
        expect(rowCount).toBe(0);
        await client.query('ROLLBACK');
      }
    } finally {
      client.release();
    }
  });
});
