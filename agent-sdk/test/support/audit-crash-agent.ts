/**
 * A real agent process for the crash-safety test: the real `AuditPipeline` (spool and shipper) producing events
 * 0..total-1 in batches of random size, at a random pace, shipping them to `url`. After each `record` resolves it
 * saves how far it got (`progress.json`); a restarted process goes on from there, so events recorded but not yet
 * noted are recorded again (same ids: the server counts them as duplicates). Logs one JSON line per step on stdout.
 *
 * Usage: node --import tsx audit-crash-agent.ts '{"dir":"...","url":"...","credential":"...","total":2000,"seed":1}'
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditPipeline } from '../../src/audit/pipeline.ts';
import { writeFileAtomic } from '../../src/node/atomic-write.ts';
import { testEvent } from './audit-events.ts';
import { prng } from '../../../test/support/prng.ts';

interface Args {
  dir: string;
  url: string;
  credential: string;
  total: number;
  seed: number;
}
const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const progressFile = join(args.dir, 'progress.json');
const log = (entry: Record<string, unknown>) => process.stdout.write(JSON.stringify({ pid: process.pid, ...entry }) + '\n');

async function progress(): Promise<number> {
  try {
    return (JSON.parse(await readFile(progressFile, 'utf8')) as { produced: number }).produced;
  } catch {
    return 0;
  }
}


const pipeline = await AuditPipeline.open({
  spoolDir: join(args.dir, 'spool'),
  spool: { segmentBytes: 64 * 1024 },
  shipper: { url: args.url, credential: args.credential, batchEvents: 50, maxWaitMs: 20, timeoutMs: 5000, backoff: { baseMs: 10, capMs: 200 } },
  dropReportMs: 0,
});
pipeline.start();
let produced = await progress();
const random = prng(args.seed * 7919 + produced);
log({ event: 'started', produced, spooled: pipeline.spool.pending().events });
while (produced < args.total) {
  const n = Math.min(args.total - produced, 1 + Math.floor(random() * 40));
  const events = Array.from({ length: n }, (_, k) => testEvent(produced + k, (produced + k) % 3 === 0 ? 'alerted' : 'blocked'));
  const result = await pipeline.record(events);
  if (result.taken !== n) throw new Error(`spool dropped events: ${JSON.stringify(result)}`);
  produced += n;
  await writeFileAtomic(progressFile, JSON.stringify({ produced }));
  log({ event: 'appended', produced });
  await new Promise((r) => setTimeout(r, random() * 30));
}
log({ event: 'produced' });
while (pipeline.spool.pending().events > 0) await new Promise((r) => setTimeout(r, 10));
log({ event: 'drained', dropped: pipeline.spool.dropped(), counters: pipeline.counters() });
await pipeline.stop();
process.exit(0); // idle keep-alive sockets must not hold the process
