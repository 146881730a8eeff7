import { appendFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool, type SpoolOptions } from '../src/audit/spool.ts';
import { numbersOf, range, testEvent } from './support/audit-events.ts';

let dir: string;
const open: Spool[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-spool-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function spool(options: SpoolOptions = {}): Promise<Spool> {
  const s = await Spool.open(dir, options);
  open.push(s);
  return s;
}
const segments = async () => (await readdir(dir)).filter((n) => n.endsWith('.seg')).sort();
const blocked = (...ns: number[]) => ns.map((n) => testEvent(n, 'blocked'));
const alerted = (...ns: number[]) => ns.map((n) => testEvent(n, 'alerted'));

/** Everything the spool still holds, oldest first, without acknowledging it (but pinning it, as a batch in flight). */
async function contents(s: Spool): Promise<number[]> {
  return numbersOf((await s.readBatch(1e9, 1e12))?.lines ?? []);
}

describe('audit spool', () => {
  it('takes events durably, hands them out oldest first, and forgets them only once acknowledged, across restarts', async () => {
    const s = await spool();
    expect(await s.append(blocked(...range(0, 5)))).toEqual({ taken: 5, dropped: {}, evicted: 0 });
    await s.append(alerted(5, 6));
    const batch = (await s.readBatch(3, 1e6))!;
    expect(numbersOf(batch.lines)).toEqual([0, 1, 2]);
    expect(numbersOf((await s.readBatch(3, 1e6))!.lines)).toEqual([0, 1, 2]); // not acknowledged: the same again
    await s.ack(batch);
    await s.close();

    const again = await spool();
    expect(await contents(again)).toEqual([3, 4, 5, 6]);
    expect(again.pending()).toMatchObject({ events: 4 });
    await again.ack((await again.readBatch(10, 1e6))!);
    expect(again.pending()).toEqual({ events: 0, bytes: 0, oldestAt: null });
    expect(await segments()).toEqual([]); // fully acknowledged segments are deleted
    await again.append(blocked(7));
    await again.close();
    expect(await contents(await spool())).toEqual([7]);
  });

  it('groups concurrent appends into one write, each caller getting its own result', async () => {
    const s = await spool({ maxEvents: 5 });
    const results = await Promise.all([s.append(blocked(0, 1)), s.append(alerted(2, 3)), s.append(alerted(4, 5, 6))]);
    expect(results).toEqual([
      { taken: 2, dropped: {}, evicted: 0 },
      { taken: 2, dropped: {}, evicted: 0 },
      { taken: 1, dropped: { spoolFullAudit: 2 }, evicted: 0 },
    ]);
    expect(await contents(s)).toEqual([0, 1, 2, 3, 4]);
  });

  it('rolls segments at the size limit and deletes each once all its events are acknowledged', async () => {
    const s = await spool({ segmentBytes: 2000 });
    for (const n of range(0, 12)) await s.append(blocked(n)); // ~450 bytes each: 5 a segment
    expect((await segments()).length).toBe(3);
    await s.ack((await s.readBatch(6, 1e6))!);
    expect((await segments()).length).toBe(2);
    await s.ack((await s.readBatch(100, 1e6))!);
    expect(await segments()).toEqual([]);
    await s.append(blocked(12));
    expect(await segments()).toEqual(['0000000000000013.seg']); // sequence numbers go on: 13th record
  });

  it('ignores and cuts off a torn final write, without counting it as a drop', async () => {
    const s = await spool();
    await s.append(blocked(0, 1, 2));
    await s.close();
    const [segment] = await segments();
    const line = (await readFile(join(dir, segment!), 'utf8')).split('\n')[0]!;
    await appendFile(join(dir, segment!), line.replace(' 1 k ', ' 4 k ').slice(0, 60)); // half a record, no newline
    const reopened = await spool();
    expect(reopened.loaded).toEqual({ tornBytes: 60, corrupt: 0 });
    expect(reopened.dropped().corrupt).toBe(0);
    await reopened.append(blocked(3));
    expect(await contents(reopened)).toEqual([0, 1, 2, 3]);
    await reopened.close();
    const third = await spool();
    expect(third.loaded).toEqual({ tornBytes: 0, corrupt: 0 });
    expect(await contents(third)).toEqual([0, 1, 2, 3]);

    // A complete final line with a bad checksum is torn too (the write may have reached the newline only).
    await third.close();
    const last = (await segments()).at(-1)!;
    await appendFile(join(dir, last), '00000000 9 k {"id":"x"}\n');
    const fourth = await spool();
    expect(fourth.loaded.tornBytes).toBeGreaterThan(0);
    expect(await contents(fourth)).toEqual([0, 1, 2, 3]);
  });

  it('counts damaged records before the end as corrupt, once, and keeps the rest', async () => {
    const s = await spool();
    await s.append(blocked(0, 1, 2));
    await s.close();
    const file = join(dir, (await segments())[0]!);
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('event 1', 'event X');
    await writeFile(file, lines.join('\n'));
    const reopened = await spool();
    expect(reopened.loaded.corrupt).toBe(1);
    expect(reopened.dropped().corrupt).toBe(1);
    expect(await contents(reopened)).toEqual([0, 2]);
    await reopened.close();
    const again = await spool();
    expect(again.loaded.corrupt).toBe(0);
    expect(again.dropped().corrupt).toBe(1); // persisted, not counted twice
    expect(await contents(again)).toEqual([0, 2]);
  });

  it('survives a damaged cursor file by sending everything spooled again', async () => {
    const s = await spool();
    await s.append(blocked(0, 1, 2));
    await s.ack((await s.readBatch(1, 1e6))!);
    await s.close();
    await writeFile(join(dir, 'cursor.json'), '{"ackedSeq": 1, "evi');
    const reopened = await spool();
    expect(await contents(reopened)).toEqual([0, 1, 2]); // the server counts 0 as a duplicate
    expect((await readdir(dir)).some((n) => n.startsWith('cursor.json.damaged-'))).toBe(true);
  });
});

describe('audit spool when full', () => {
  it('drops incoming audit-mode events, and evicts the oldest audit-mode ones for blocked events', async () => {
    const s = await spool({ maxEvents: 6 });
    await s.append([...alerted(0, 1), ...blocked(2), ...alerted(3), ...blocked(4, 5)]);
    expect(await s.append(alerted(6))).toEqual({ taken: 0, dropped: { spoolFullAudit: 1 }, evicted: 0 });
    expect(await s.append(blocked(7, 8))).toEqual({ taken: 2, dropped: {}, evicted: 2 }); // 0 and 1 go
    expect(await s.append(blocked(9))).toEqual({ taken: 1, dropped: {}, evicted: 1 });
    expect(await s.append(blocked(10))).toEqual({ taken: 0, dropped: { spoolFullEnforce: 1 }, evicted: 0 });
    expect(await contents(s)).toEqual([2, 4, 5, 7, 8, 9]);
    expect(s.dropped()).toMatchObject({ spoolFullAudit: 1, evictedAudit: 3, spoolFullEnforce: 1 });
    await s.close();

    const reopened = await spool({ maxEvents: 6 });
    expect(await contents(reopened)).toEqual([2, 4, 5, 7, 8, 9]); // evictions are durable
    expect(reopened.dropped()).toMatchObject({ spoolFullAudit: 1, evictedAudit: 3, spoolFullEnforce: 1 });
  });

  it('keeps a second batch in flight (read after the first) pinned once the first is acknowledged', async () => {
    const s = await spool({ maxEvents: 6 });
    await s.append(alerted(0, 1, 2, 3, 4, 5));
    const first = (await s.readBatch(2, 1e6))!;
    const second = (await s.readBatch(2, 1e6, first.lastSeq))!;
    expect([numbersOf(first.lines), numbersOf(second.lines)]).toEqual([[0, 1], [2, 3]]);
    await s.ack(first);
    // Two places are free and 4 and 5 may go; 2 and 3 are still on their way to the server, so the last two are refused.
    expect(await s.append(blocked(6, 7, 8, 9, 10, 11))).toEqual({ taken: 4, dropped: { spoolFullEnforce: 2 }, evicted: 2 });
    await s.ack(second);
    expect(await contents(s)).toEqual([6, 7, 8, 9]);
  });

  // Issue 12: a full spool made every append rescan the whole index (the webhook fell from 208 to 15 req/s). The
  // index counts the records it visits; the cost of one append must be the same whatever the spool holds.
  it('appends at a cost that does not grow with what a full spool holds (blocked flood, audit evictions, batches in flight)', { timeout: 120_000 }, async () => {
    const perAppend: Record<string, number[]> = {};
    for (const size of [400, 4000]) {
      const s = await Spool.open(join(dir, `n${size}`), { maxEvents: size, segmentBytes: 1 << 20 });
      open.push(s);
      const chunk = Math.min(500, size);
      for (let n = 0; n < size; n += chunk) await s.append(range(n, n + chunk).map((i) => testEvent(i, i % 2 ? 'blocked' : 'alerted')));
      const inFlight = (await s.readBatch(100, 1e9))!; // pinned: never evicted
      const costs: number[] = [];
      const measure = async (events: ReturnType<typeof blocked>) => {
        const before = s.stats().indexSteps;
        const result = await s.append(events);
        costs.push(s.stats().indexSteps - before);
        return result;
      };
      // Blocked events evict the audit-mode half, one each, then find the spool full of blocked events.
      for (let i = 0; i < size / 2 + 200; i++) await measure(blocked(size + i));
      expect(s.dropped()).toMatchObject({ evictedAudit: size / 2 - 50, spoolFullEnforce: 250 });
      await s.ack(inFlight);
      expect(await s.append(blocked(1e6))).toMatchObject({ taken: 1 });
      const evicting = costs.slice(0, size / 2 - 50);
      perAppend[size] = [Math.ceil(evicting.reduce((a, b) => a + b, 0) / evicting.length), Math.max(...costs.slice(-100))];
    }
    // Evicting costs a step or two per event, amortized (the batch in flight is skipped once), whatever the size;
    // refusing an event on a spool full of blocked events costs none.
    expect(perAppend[4000]).toEqual(perAppend[400]);
    expect(perAppend[4000]![0]).toBeLessThanOrEqual(2);
    expect(perAppend[4000]![1]).toBe(0);
  });

  it('never evicts the batch in flight, and holds to the byte limit', async () => {
    const s = await spool({ maxEvents: 4 });
    await s.append(alerted(0, 1, 2, 3));
    const inFlight = (await s.readBatch(2, 1e6))!;
    expect(await s.append(blocked(4, 5, 6))).toEqual({ taken: 2, dropped: { spoolFullEnforce: 1 }, evicted: 2 });
    await s.ack(inFlight);
    expect(await contents(s)).toEqual([4, 5]);

    const size = s.pending().bytes / 2;
    const small = await Spool.open(join(dir, 'bytes'), { maxBytes: Math.floor(size * 3.5) });
    open.push(small);
    expect(await small.append(alerted(0, 1, 2, 3))).toMatchObject({ taken: 3, dropped: { spoolFullAudit: 1 } });
    expect(small.pending().bytes).toBeLessThanOrEqual(size * 3.5);
  });

  it('reclaims the space of evicted records: compacts a closed segment that is mostly evicted', async () => {
    const s = await spool({ maxEvents: 8, segmentBytes: 2000 });
    await s.append(range(0, 8).map((n) => testEvent(n, [3, 5, 7].includes(n) ? 'blocked' : 'alerted'))); // one write: one segment
    await s.append(blocked(8)); // the segment is full: a new one starts (and 0 is evicted)
    expect(await segments()).toHaveLength(2);
    const before = s.stats().diskBytes;
    expect(await s.append(blocked(9, 10, 11, 12))).toMatchObject({ taken: 4, evicted: 4 });
    await s.flush(); // the bookkeeping after an eviction runs once the appenders have their answer
    expect(s.stats().diskBytes).toBeLessThan(before); // 4 records more, but 5 of 8 gone from the first segment
    await s.close();
    const reopened = await spool({ maxEvents: 8, segmentBytes: 2000 });
    expect(reopened.loaded).toEqual({ tornBytes: 0, corrupt: 0 });
    expect(await contents(reopened)).toEqual([3, 5, 7, 8, 9, 10, 11, 12]);
  });

  it('drops an event larger than the record limit as tooLarge', async () => {
    const s = await spool({ maxRecordBytes: 1000 });
    const big = testEvent(1, 'blocked', { checks: [{ id: 'x', message: 'y'.repeat(2000), severity: 'high' }] });
    expect(await s.append([testEvent(0), big])).toEqual({ taken: 1, dropped: { tooLarge: 1 }, evicted: 0 });
  });

  it('saves drop counts lazily and on close, and counts server refusals on acknowledgement', async () => {
    const s = await spool({ maxEvents: 2, countFlushMs: 60_000 });
    await s.append(alerted(0, 1, 2));
    await s.ack((await s.readBatch(2, 1e6))!, { rejected: 1, tooLarge: 1 });
    await s.append(alerted(3, 4, 5));
    await s.close();
    expect((await spool()).dropped()).toMatchObject({ spoolFullAudit: 2, rejected: 1, tooLarge: 1 });
  });
});
