import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCurrent, isCurrent, readStamp, ROOT } from '../build/build.mjs';
import { bundle, POD } from './engine.bench.ts';
import { fmt, median, report } from './stats.ts';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 7);

/**
 * Start-up, whole processes as users start them (the measuring process only spawns and polls), each variant beside
 * its baseline in the same rounds, variants interleaved so that load from elsewhere falls on all of them alike:
 * - `palisade-agent evaluate` on one pod (the engine bench's 3-container pod and bundle) vs `node -e 0`;
 * - `npm start` to the first `/healthz` 200 on an existing data directory vs a trivial Hono app started the same way
 *   (`node` on a JavaScript file, bench/trivial-hono.mjs; through tsx too, as both were started before the build),
 *   and PGlite's own open of that directory, its floor. CPU to that first 200 too (from /proc), which load from
 *   other processes sways less than wall time.
 * "from the sources (tsx)" is the path before the build (PALISADE_FROM_SOURCE=1: the launchers register tsx).
 */
export async function benchStartup(): Promise<void> {
  await Promise.all([ensureCurrent('agent'), ensureCurrent('server')]);
  const dir = await mkdtemp(join(tmpdir(), 'palisade-bench-startup-'));
  try {
    await agentRows(dir);
    await serverRows(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const env = (extra: Record<string, string> = {}) => {
  const { DATABASE_URL: _, PALISADE_BUILD_DEBUG: __, PALISADE_FROM_SOURCE: ___, ...rest } = process.env;
  return { ...rest, ...extra };
};

/** Wall time of a process from spawn to exit, in ms. */
async function whole(command: string, args: string[], cwd: string, extra?: Record<string, string>): Promise<number> {
  const started = performance.now();
  const child = spawn(command, args, { cwd, env: env(extra), stdio: 'ignore' });
  await once(child, 'exit');
  return performance.now() - started;
}

/** Rounds of every variant in turn; the median of each. */
async function rounds(variants: Record<string, () => Promise<number>>): Promise<Record<string, number>> {
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
  for (let i = 0; i < RUNS; i++) for (const [name, run] of Object.entries(variants)) times[name]!.push(await run());
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
}

async function agentRows(dir: string): Promise<void> {
  await writeFile(join(dir, 'content.json'), JSON.stringify(bundle()));
  await writeFile(join(dir, 'pod.json'), POD);
  const bin = join(ROOT, 'agent-sdk/bin/palisade-agent.mjs');
  const evaluate = [bin, 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', 'pod.json'];
  const m = await rounds({
    node: () => whole(process.execPath, ['-e', '0'], dir),
    built: () => whole(process.execPath, evaluate, dir),
    source: () => whole(process.execPath, evaluate, dir, { PALISADE_FROM_SOURCE: '1' }),
  });
  const stamp = readStamp('agent')!;
  const checks: number[] = [];
  for (let i = 0; i < 21; i++) {
    const started = performance.now();
    isCurrent(stamp);
    checks.push(performance.now() - started);
  }
  report(`palisade-agent evaluate, one pod, whole process (median of ${RUNS})`, [
    ['node -e 0 (baseline)', `${fmt(m.node!, 0)} ms`],
    ['built (dist/agent)', `${fmt(m.built!, 0)} ms = ${fmt(m.built! / m.node!, 1)}× baseline`],
    ['from the sources (tsx), as before', `${fmt(m.source!, 0)} ms = ${fmt(m.source! / m.node!, 1)}× baseline`],
    ['built vs from the sources', `${fmt(m.source! / m.built!, 1)}× faster`],
    [`freshness check (${Object.keys(stamp.files).length} files, ${Object.keys(stamp.packages).length} packages)`, `${fmt(median(checks), 1)} ms`],
  ]);
}

function freePort(): Promise<number> {
  const server = createServer();
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    server.close(() => resolve(port));
  }));
}

const healthy = (port: number) =>
  new Promise<boolean>((resolve) => {
    get({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve(res.resume().statusCode === 200)).on('error', () => resolve(false));
  });

/**
 * CPU time (user + system, all threads) a running process has used so far, in ms, from /proc (Linux); undefined
 * elsewhere. Less swayed by other load on the machine than wall time.
 */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks, USER_HZ = 100
  } catch {
    return undefined;
  }
}

/**
 * ms from spawn to the first `/healthz` 200, and the CPU the process had used by then; the server (its process group)
 * is then stopped and awaited.
 */
async function untilHealthy(command: string, args: string[], extra: Record<string, string>): Promise<{ ms: number; cpu?: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env: env({ ...extra, PORT: String(port) }), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(child, 'exit');
  try {
    for (;;) {
      if (await healthy(port)) return { ms: performance.now() - started, cpu: cpuMs(child.pid!) };
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${command} ${args.join(' ')} exited before answering: ${stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGTERM');
    await exited;
  }
}

async function serverRows(dir: string): Promise<void> {
  const dataDir = join(dir, 'data');
  const server = { PALISADE_DATA_DIR: dataDir };
  const start = join(ROOT, 'workers/node/start.mjs');
  const hono = join(ROOT, 'bench/trivial-hono.mjs');
  const tsx = join(ROOT, 'node_modules/tsx/dist/cli.mjs');
  await untilHealthy(process.execPath, [start], server); // creates and migrates the data directory
  // PGlite alone on the same directory, as a whole process: what no change to our start path can go below.
  const pglite = `const { PGlite } = await import('@electric-sql/pglite'); const c = new PGlite(${JSON.stringify(dataDir)}); await c.waitReady; await c.close();`;
  const cpu: Record<string, number[]> = {};
  const measured = (name: string, run: () => Promise<{ ms: number; cpu?: number }>) => async () => {
    const { ms, cpu: used } = await run();
    if (used !== undefined) (cpu[name] ??= []).push(used);
    return ms;
  };
  const m = await rounds({
    hono: measured('hono', () => untilHealthy(process.execPath, [hono], {})),
    honoTsx: measured('honoTsx', () => untilHealthy(process.execPath, [tsx, hono], {})),
    built: measured('built', () => untilHealthy(process.execPath, [start], server)),
    npm: () => untilHealthy('npm', ['start', '--silent'], server).then((r) => r.ms),
    source: measured('source', () => untilHealthy(process.execPath, [start], { ...server, PALISADE_FROM_SOURCE: '1' })),
    pglite: () => whole(process.execPath, ['--input-type=module', '-e', pglite], ROOT),
  });
  const used = (name: string) => (cpu[name] ? `, CPU ${fmt(median(cpu[name]), 0)} ms` : '');
  report(`npm start to the first /healthz 200, existing data directory (median of ${RUNS})`, [
    ['trivial Hono app, node (baseline)', `${fmt(m.hono!, 0)} ms${used('hono')}`],
    ['trivial Hono app, tsx (the baseline before)', `${fmt(m.honoTsx!, 0)} ms`],
    ['node workers/node/start.mjs (built)', `${fmt(m.built!, 0)} ms = ${fmt(m.built! / m.hono!, 1)}× baseline${used('built')}`],
    ['npm start (the same, through npm)', `${fmt(m.npm!, 0)} ms = ${fmt(m.npm! / m.hono!, 1)}× baseline`],
    ['from the sources (tsx), as before', `${fmt(m.source!, 0)} ms = ${fmt(m.source! / m.hono!, 1)}× baseline, ${fmt(m.source! / m.honoTsx!, 1)}× the tsx one${used('source')}`],
    ['built vs from the sources', `${fmt(m.source! / m.built!, 1)}× faster`],
    ['PGlite open + close alone, whole process (floor)', `${fmt(m.pglite!, 0)} ms = ${fmt((m.pglite! / m.built!) * 100, 0)}% of the built start`],
  ]);
}
