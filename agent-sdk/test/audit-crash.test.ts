import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolledCluster } from '../../test/support/agent.ts';
import { harness } from '../../test/support/harness.ts';
import { testPglite } from '../../test/support/pglite.ts';
import { eventId, range } from './support/audit-events.ts';
import { REPO } from './support/cli.ts';
import { prng } from '../../test/support/prng.ts';

// Crash safety of the audit path end to end: a real agent process (the real spool and shipper) ships N known events
// to the real control plane (the Hono app on PGlite, served over HTTP) and is killed with SIGKILL again and again:
// while appending, while uploading, and after the server stored a batch but before the agent got the answer.
const N = 2000;
const KILLS = 12;
const SEED = 20260105;
const AGENT = join(REPO, 'agent-sdk/test/support/audit-crash-agent.ts');

const database = await testPglite();
const h = harness(database);
let server: ServerType;
let url = '';
let dir = '';
type Kill = 'append' | 'upload' | 'ack';
/** Set while the next events request is to kill the agent: on arrival, or once the server stored the batch. */
let killOn: { mode: Kill; kill: () => Promise<void> } | null = null;
const answered = { accepted: 0, duplicates: 0, requests: 0 };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-audit-crash-'));
  server = serve({ hostname: '127.0.0.1', port: 0, fetch: handle });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server?.close();
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

async function handle(req: Request): Promise<Response> {
  if (new URL(req.url).pathname !== '/v1/agent/events' || killOn === null || killOn.mode === 'append') return record(await h.app.fetch(req));
  const { mode, kill } = killOn;
  killOn = null;
  if (mode === 'upload') {
    await kill(); // the agent dies with its request in flight; nothing is stored
    return new Response(null, { status: 503 });
  }
  const res = record(await h.app.fetch(req)); // committed
  await kill(); // ... and the agent never hears of it
  return res;
}

function record(res: Response): Response {
  if (res.status !== 202) return res;
  answered.requests++;
  void res.clone().json().then((body: { accepted: number; duplicates: number }) => {
    answered.accepted += body.accepted;
    answered.duplicates += body.duplicates;
  });
  return res;
}


function startAgent(credential: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', AGENT, JSON.stringify({ dir, url, credential, total: N, seed: SEED })], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
  };
  return { child, exited, kill, out: () => out, err: () => err };
}

const waitFor = async (check: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 2));
  return check();
};

describe('audit events survive SIGKILL at any moment', () => {
  it(`delivers exactly the ${N} event ids, none missing and none twice, across ${KILLS} kills`, { timeout: 90_000 }, async () => {
    const tenant = await h.tenant('crash');
    const { credential, clusterId } = await enrolledCluster(h, tenant, 'crash-test');
    const random = prng(SEED);
    const modes: Kill[] = range(0, KILLS).map((i) => (['append', 'upload', 'ack'] as const)[i % 3]!).sort(() => random() - 0.5);
    const kills: Kill[] = [];
    let running: ReturnType<typeof startAgent> | undefined;
    const children: ChildProcess[] = [];
    try {
      for (const mode of modes) {
        const agent = (running = startAgent(credential));
        children.push(agent.child);
        const started = await waitFor(() => agent.out().includes('"started"'), 15_000);
        expect(started, agent.err()).toBe(true);
        if (mode === 'append') await new Promise((r) => setTimeout(r, 20 + random() * 250)); // mid-production
        else {
          killOn = { mode, kill: agent.kill };
          await waitFor(() => killOn === null || agent.child.exitCode !== null, 10_000);
        }
        if (agent.out().includes('"drained"')) break; // finished before the kill: nothing left to interrupt
        if (killOn !== null) killOn = null;
        await agent.kill();
        kills.push(mode);
      }
      const last = (running = startAgent(credential));
      expect(await last.exited, last.err()).toBe(0);
      const drained = JSON.parse(last.out().split('\n').find((l) => l.includes('"drained"'))!) as { dropped: Record<string, number> };
      expect(Object.values(drained.dropped).every((n) => n === 0)).toBe(true);
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
      if (running?.child.exitCode === null) await running.kill();
    }

    const stored = await database.client.query<{ id: string }>('select id::text as id from audit_events where cluster_id = $1', [clusterId]);
    const ids = stored.rows.map((r) => r.id);
    expect(ids).toHaveLength(N);
    expect(new Set(ids)).toEqual(new Set(range(0, N).map((i) => eventId(i))));
    expect(answered.accepted).toBe(N); // each event stored as new exactly once; re-sends came back as duplicates
    expect(kills.length).toBeGreaterThanOrEqual(9);
    for (const mode of ['append', 'upload', 'ack'] as const) expect(kills.filter((k) => k === mode).length).toBeGreaterThanOrEqual(3);
    console.log(`audit crash test: ${kills.length} kills (${kills.join(', ')}), ${answered.requests} acknowledged batches, ${answered.duplicates} duplicates re-sent`);
  });
});
