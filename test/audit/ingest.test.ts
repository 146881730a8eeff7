import { gzipSync } from 'node:zlib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestEvents } from '../../workers/audit/audit-ingest.store.ts';
import type { StoredAuditEvent } from '../../workers/audit/audit.types.ts';
import { inTenant } from '../../workers/db/db.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { auditEvent, postRaw, sendEvents } from './support.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database, { config: { audit: { maxBatchBytes: 64 * 1024, maxBatchEvents: 50 } } });
let acme: TenantClient;
let agent: Awaited<ReturnType<typeof enrolledCluster>>;

beforeAll(async () => {
  acme = await h.tenant('acme');
  agent = await enrolledCluster(h, acme, 'prod-eu');
});

const stored = async (id: string) => (await acme.json('GET', `/v1/audit/events?limit=200`)).body.items.find((e: { id: string }) => e.id === id);

describe('POST /v1/agent/events', () => {
  it('stores a JSON array and answers 202 with counts; tenant and cluster come from the credential', async () => {
    const events = [auditEvent(), auditEvent(new Date(Date.now() - 60_000), { verdict: 'alerted', mode: 'audit' })];
    const res = await sendEvents(h, agent.credential, events);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
    const got = await stored(events[0]!.id);
    expect(got).toMatchObject({ ...events[0], clusterId: agent.clusterId });
    expect(Date.parse(got.receivedAt)).toBeGreaterThan(Date.now() - 60_000);
    const [row] = (await database.client.query<{ tenant_id: string; cluster_id: string }>(`select tenant_id, cluster_id from audit_events where id = $1`, [events[1]!.id])).rows;
    expect(row).toEqual({ tenant_id: acme.id, cluster_id: agent.clusterId });
  });

  it('accepts NDJSON and gzip, and rejects a bad NDJSON line on its own', async () => {
    const a = auditEvent();
    const b = auditEvent();
    const ndjson = [JSON.stringify(a), '{not json', '', JSON.stringify(b)].join('\n');
    const res = await postRaw(h, agent.credential, ndjson, { 'content-type': 'application/x-ndjson' });
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/not valid JSON/) }]);

    for (const format of ['json', 'ndjson'] as const) {
      const events = [auditEvent(), auditEvent()];
      const zipped = await sendEvents(h, agent.credential, events, { format, gzip: true });
      expect(zipped.status, format).toBe(202);
      expect(zipped.body).toEqual({ accepted: 2, duplicates: 0, rejected: [] });
      expect(await stored(events[1]!.id)).toBeDefined();
    }
  });

  it('validates each event on its own: index, reason and pointers; the valid ones are stored', async () => {
    const good = auditEvent();
    const batch = [
      { ...auditEvent(), verdict: 'maybe' },
      good,
      { ...auditEvent(), tenantId: acme.id, clusterId: agent.clusterId },
      auditEvent(new Date(), { severity: 'low' }),
      auditEvent(new Date(Date.now() + 3 * 24 * 3600_000)),
      { ...auditEvent(), workload: { namespace: 'a', kind: 'Pod', name: 'x', extra: 1 } },
      auditEvent(new Date(), { checks: [{ id: 'x', message: 'nul \u0000 here', severity: 'high' }] }),
      42,
    ];
    const res = await sendEvents(h, agent.credential, batch);
    expect(res.status).toBe(202);
    expect(res.body.accepted).toBe(1);
    const byIndex = Object.fromEntries(res.body.rejected.map((r: { index: number; errors?: Array<{ pointer: string }> }) => [r.index, r.errors?.map((e) => e.pointer)]));
    expect(byIndex).toEqual({
      0: ['/verdict'],
      2: ['/tenantId', '/clusterId'],
      3: ['/severity'],
      4: ['/time'],
      5: ['/workload/extra'],
      6: ['/checks/0/message'],
      7: [''],
    });
    expect(await stored(good.id)).toBeDefined();
  });

  it('stores fileThreat events with their file (path, verdict, signature, actions), queryable by kind and check', async () => {
    const file = { path: '/tmp/upload.zip', member: ['/tmp/upload.zip', 'bin/tool'], verdict: 'infected', signature: 'Win.Test.EICAR_HDB-1', digest: `sha256:${'ab'.repeat(32)}`, size: 912, trigger: 'change', actions: [{ action: 'disinfect', ok: false, detail: 'EACCES' }, { action: 'remove', ok: true, detail: 'removed' }] };
    const threat = auditEvent(new Date(), { kind: 'fileThreat', severity: 'critical', checks: [{ id: 'fileThreatProtection', message: 'found', severity: 'critical' }], workload: { namespace: 'shop', kind: 'Pod', name: 'web-1', pod: 'web-1', container: 'app' }, file } as never);
    const limit = auditEvent(new Date(), { kind: 'fileThreat', verdict: 'alerted', severity: 'low', checks: [{ id: 'fileThreatProtection.limitExceeded', message: 'not fully scanned', severity: 'low' }], file: { path: '/big', verdict: 'limitExceeded', reason: 'objectSize', trigger: 'fullScan', actions: [] } } as never);
    const batch = [threat, limit, { ...auditEvent(), kind: 'fileThreat' }, { ...threat, id: auditEvent().id, file: { ...file, owner: 'root' } }, { ...auditEvent(), file }];
    const res = await sendEvents(h, agent.credential, batch);
    expect(res.body.accepted).toBe(2);
    expect(res.body.rejected.map((r: { index: number; errors: Array<{ pointer: string }> }) => [r.index, r.errors.map((e) => e.pointer)])).toEqual([[2, ['/file']], [3, ['/file/owner']], [4, ['/file']]]);
    expect(await stored(threat.id)).toMatchObject({ kind: 'fileThreat', file });
    const listed = (await acme.json('GET', '/v1/audit/events?kind=fileThreat&check=fileThreatProtection.limitExceeded')).body.items;
    expect(listed.map((e: { id: string }) => e.id)).toEqual([limit.id]);
  });

  it('stores awkward text exactly, and ids in lower case', async () => {
    const odd = 'we"ird\\id,{x} \u00e9\u{1F600}';
    const event = auditEvent(new Date(), {
      checks: [{ id: odd, message: 'tab\there\nnew line, "quoted" \\ back', severity: 'high' }, { id: odd, message: 'again', severity: 'low' }],
      workload: { namespace: 'n s', kind: 'Pod', name: "o'brien" },
    });
    const upper = { ...event, id: event.id.toUpperCase(), policy: { ...event.policy!, id: event.policy!.id.toUpperCase() } };
    expect((await sendEvents(h, agent.credential, [upper])).body).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    expect((await sendEvents(h, agent.credential, [event])).body).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
    expect(await stored(event.id)).toMatchObject(event);
    const [row] = (await database.client.query<{ check_ids: string[]; image: string | null }>(`select check_ids, image from audit_events where id = $1`, [event.id])).rows;
    expect(row).toEqual({ check_ids: [odd], image: null });
    const found = await acme.json('GET', `/v1/audit/events?check=${encodeURIComponent(odd)}`);
    expect(found.body.items.map((e: { id: string }) => e.id)).toEqual([event.id]);
  });

  it('answers 422 when no event of the batch is valid, 202 with nothing to do for an empty one', async () => {
    const res = await sendEvents(h, agent.credential, [{ id: 'nope' }, { ...auditEvent(), kind: 'other' }]);
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.body).toMatchObject({ accepted: 0, duplicates: 0 });
    expect(res.body.rejected.map((r: { index: number }) => r.index)).toEqual([0, 1]);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain('/1/kind');
    expect((await sendEvents(h, agent.credential, [])).body).toEqual({ accepted: 0, duplicates: 0, rejected: [] });
  });

  it('is idempotent on the event id, within a batch and across batches', async () => {
    const events = [auditEvent(), auditEvent(), auditEvent()];
    expect((await sendEvents(h, agent.credential, [events[0], events[0], events[1]])).body).toEqual({ accepted: 2, duplicates: 1, rejected: [] });
    expect((await sendEvents(h, agent.credential, events)).body).toEqual({ accepted: 1, duplicates: 2, rejected: [] });
    expect((await sendEvents(h, agent.credential, events, { gzip: true })).body).toEqual({ accepted: 0, duplicates: 3, rejected: [] });
    const ids = events.map((e) => e.id);
    const { rows } = await database.client.query<{ n: number }>(`select count(*)::int as n from audit_events where id = any($1::uuid[])`, [ids]);
    expect(rows[0]!.n).toBe(3);
  });

  it('refuses malformed bodies, other media types and encodings', async () => {
    expect((await postRaw(h, agent.credential, '[{', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await postRaw(h, agent.credential, '{"id":1}', { 'content-type': 'application/json' })).status).toBe(422);
    expect((await postRaw(h, agent.credential, '[]', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await postRaw(h, agent.credential, '[]', { 'content-type': 'application/json', 'content-encoding': 'br' })).status).toBe(415);
    const corrupt = await postRaw(h, agent.credential, new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7]), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
    expect(corrupt.body.detail).toMatch(/gzip/);
  });

  it('answers 413 for too many bytes, also after decompression, and for too many events', async () => {
    const big = JSON.stringify([auditEvent(new Date(), { checks: [{ id: 'x', message: 'y'.repeat(4000), severity: 'high' }] })]).padEnd(70 * 1024, ' ');
    expect((await postRaw(h, agent.credential, big, { 'content-type': 'application/json' })).status).toBe(413);
    // 10 MB of spaces gzip to about 10 KB: cut off at 64 KiB of output.
    const bomb = gzipSync('[' + ' '.repeat(10_000_000) + ']');
    expect(bomb.length).toBeLessThan(64 * 1024);
    const res = await postRaw(h, agent.credential, new Uint8Array(bomb), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(res.status).toBe(413);
    expect(res.body.detail).toMatch(/after decompression/);
    const many = Array.from({ length: 51 }, () => auditEvent());
    for (const format of ['json', 'ndjson'] as const) {
      const tooMany = await sendEvents(h, agent.credential, many, { format });
      expect(tooMany.status).toBe(413);
      expect(tooMany.body.detail).toMatch(/51 events/);
    }
  });

  it('takes no API key and no unknown credential', async () => {
    expect((await sendEvents(h, acme.key, [auditEvent()])).status).toBe(401);
    expect((await sendEvents(h, 'pcc_nope', [auditEvent()])).status).toBe(401);
    const anonymous = await h.app.request('/v1/agent/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(anonymous.status).toBe(401);
  });
});

describe('the per-cluster rate limit', () => {
  it('answers 429 with Retry-After once the bucket is empty, and recovers with time', async () => {
    let clock = Date.now();
    const limited = harness(database, { now: () => new Date(clock), config: { audit: { rateLimit: { eventsPerSecond: 10, burst: 20 } } } });
    const tenant = await limited.tenant('limited');
    const one = await enrolledCluster(limited, tenant, 'one');
    const two = await enrolledCluster(limited, tenant, 'two');
    const batch = (n: number) => Array.from({ length: n }, () => auditEvent(new Date(clock)));
    expect((await sendEvents(limited, one.credential, batch(15))).status).toBe(202);
    const refused = await sendEvents(limited, one.credential, batch(10));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.body.retryAfterSeconds).toBe(1);
    // Another cluster has its own bucket.
    expect((await sendEvents(limited, two.credential, batch(20))).status).toBe(202);
    expect((await sendEvents(limited, two.credential, batch(1))).headers.get('retry-after')).toBe('1');
    clock += 1000;
    expect((await sendEvents(limited, one.credential, batch(10))).status).toBe(202);
    const empty = await sendEvents(limited, one.credential, batch(20));
    expect(empty.status).toBe(429);
    expect(empty.headers.get('retry-after')).toBe('2');
  });
});

describe('ingestEvents (the store)', () => {
  it('calls onStored in the transaction with only the new events, and rolls back when it throws', async () => {
    const tenantId = acme.id;
    const known = auditEvent();
    await inTenant(database.db, tenantId, (tx) => ingestEvents(tx, { tenantId, clusterId: agent.clusterId, receivedAt: new Date().toISOString(), events: [known] }));
    const fresh = auditEvent();
    const seen: StoredAuditEvent[][] = [];
    const result = await inTenant(database.db, tenantId, (tx) =>
      ingestEvents(tx, { tenantId, clusterId: agent.clusterId, receivedAt: new Date().toISOString(), events: [known, fresh] }, {
        onStored: async (inner, events) => {
          seen.push([...events]);
          const visible = await inner.execute(sql`select count(*)::int as n from audit_events where id = ${fresh.id}`);
          expect((visible as unknown as { rows: Array<{ n: number }> }).rows[0]!.n).toBe(1);
        },
      }),
    );
    expect(result.duplicates).toBe(1);
    expect(seen).toEqual([[{ tenantId, clusterId: agent.clusterId, receivedAt: expect.any(String), event: fresh }]]);

    const doomed = auditEvent();
    const failing = inTenant(database.db, tenantId, (tx) =>
      ingestEvents(tx, { tenantId, clusterId: agent.clusterId, receivedAt: new Date().toISOString(), events: [doomed] }, { onStored: async () => Promise.reject(new Error('outbox down')) }),
    );
    await expect(failing).rejects.toThrow('outbox down');
    const { rows } = await database.client.query<{ n: number }>(`select count(*)::int as n from audit_events where id = $1`, [doomed.id]);
    expect(rows[0]!.n).toBe(0);
  });
});
