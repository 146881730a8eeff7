import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkEvent } from '../../workers/audit/audit-event.validate.ts';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { AgentAudit } from '../src/audit/agent-audit.ts';
import { dropSeverity } from '../src/audit/drop-report.ts';
import { AuditPipeline } from '../src/audit/pipeline.ts';
import type { BundleClient } from '../src/bundle/client.ts';
import { AuditQueue } from '../src/engine/audit-queue.ts';
import type { AgentFiles } from '../src/node/agent-files.ts';
import { range, testEvent } from './support/audit-events.ts';
import { fakeEventsFetch, until } from './support/audit-server.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-pipeline-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const open = (fetch: typeof globalThis.fetch, maxEvents = 3) =>
  AuditPipeline.open({ spoolDir: dir, spool: { maxEvents }, shipper: { url: 'http://cp.test', credential: 'c', fetch, maxWaitMs: 0 }, dropReportMs: 0, bundleRevision: () => 7 });

describe('audit pipeline', () => {
  it('reports drops as an agent event the server accepts, once, and across restarts', async () => {
    const pipeline = await open(fakeEventsFetch().fetch, 100);
    expect(await pipeline.record(range(0, 101).map((n) => testEvent(n, 'alerted')))).toMatchObject({ taken: 100, dropped: { spoolFullAudit: 1 } });
    const report = (await pipeline.reportDrops())!;
    expect(report).toMatchObject({ kind: 'agent', verdict: 'alerted', bundleRevision: 7, severity: 'low', checks: [{ id: 'agent.auditDropped.spoolFullAudit', severity: 'low' }] });
    expect(report.checks[0]!.message).toMatch(/^1 audit-mode events refused/);
    expect(checkEvent(0, JSON.parse(JSON.stringify(report)), Date.now(), 60_000)).toMatchObject({ ok: true });
    // Agent events may go a little over the bounds: the report itself neither dropped nor evicted anything.
    expect(pipeline.counters()).toMatchObject({ auditSpooled: 101, auditSpoolDroppedSpoolFullAudit: 1, auditSpoolDroppedEvictedAudit: 0 });
    expect(await pipeline.reportDrops()).toBeNull();
    await pipeline.record([testEvent(200, 'alerted')]);
    await pipeline.spool.close();

    const reopened = await open(fakeEventsFetch().fetch, 100);
    expect((await reopened.reportDrops())!.checks[0]!.message).toMatch(/^1 audit-mode/); // only the drop not yet reported
    expect(await reopened.reportDrops()).toBeNull();
    expect(reopened.spool.pending().events).toBe(102);
    await reopened.stop();
  });

  it('grades severity by volume, blocked events lost being at least high', () => {
    expect([1, 100, 1000, 10_000].map((n) => dropSeverity('spoolFullAudit', n))).toEqual(['low', 'medium', 'high', 'critical']);
    expect(dropSeverity('spoolFullEnforce', 1)).toBe('high');
    expect(dropSeverity('spoolFullEnforce', 50_000)).toBe('critical');
  });

  it('ships what it records and counts it for the status document', async () => {
    const server = fakeEventsFetch();
    const pipeline = await open(server.fetch, 100);
    pipeline.start();
    await pipeline.record(range(0, 5).map((n) => testEvent(n)));
    await until(() => pipeline.spool.pending().events === 0);
    expect(pipeline.counters()).toMatchObject({ auditSpooled: 0, auditShippedBatches: 1, auditShippedAccepted: 5, auditShipFailures: 0, auditSpoolDroppedRejected: 0 });
    await pipeline.stop();
  });
});

describe('palisade-agent run audit path', () => {
  let server: Server;
  const received: AuditEventV1[] = [];
  beforeEach(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const lines = gunzipSync(Buffer.concat(chunks)).toString().split('\n').filter(Boolean);
        received.push(...lines.map((l) => JSON.parse(l) as AuditEventV1));
        res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: lines.length, duplicates: 0, rejected: [] }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(() => new Promise((r) => server.close(r)));

  it('drains the webhook queue into the spool under the state directory and ships it', async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const files = { config: { url, audit: { batchMaxWaitMs: 0 } }, credential: 'c', stateDir: join(dir, 'state') } as unknown as AgentFiles;
    const logs: Record<string, unknown>[] = [];
    const audit = await AgentAudit.start(join(dir, 'config.json'), files, { active: null } as BundleClient, (e) => logs.push(e), 10);
    const queue = new AuditQueue<AuditEventV1>({ capacity: 100 });
    audit.attach(queue);
    for (const n of range(0, 7)) queue.push(testEvent(n));
    await until(() => received.length === 7);
    queue.push(testEvent(7));
    await audit.stop(); // the queue's remainder is spooled before the spool closes
    expect(logs[0]).toMatchObject({ event: 'audit_spool_opened', spoolDir: join(dir, 'state', 'audit-spool'), pending: 0 });
    expect(audit.withCounters({ counters: { polls: 1 } } as never).counters).toMatchObject({ polls: 1, auditShippedAccepted: 7 });
    const again = await AuditPipeline.open({ spoolDir: join(dir, 'state', 'audit-spool'), shipper: { url, credential: 'c' } });
    expect(again.spool.pending().events + received.length).toBe(8);
    await again.spool.close();
  });
});
