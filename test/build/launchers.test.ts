import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DIST, isCurrent, readStamp, type Stamp } from '../../build/build.mjs';
import { killStarted, start } from '../../agent-sdk/test/support/cli.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';

// The launchers (build/launch.mjs) run the built JavaScript in dist/, never a stale build: these start the agent and
// the server as users do and read which code each process loaded (PALISADE_BUILD_DEBUG names it on stderr).
const scratch = mkdtempSync(join(tmpdir(), 'palisade-launch-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
afterEach(killStarted);

const execFileAsync = promisify(execFile);
const BIN = join(import.meta.dirname, '../../agent-sdk/bin/palisade-agent.mjs');
const DEBUG = { PALISADE_BUILD_DEBUG: '1' };
const loadedFrom = (stderr: string, target: string) => new RegExp(`^palisade: ${target}/\\w+ from (.*)$`, 'm').exec(stderr)?.[1];
const readStampIn = (dist: string, target: string) => JSON.parse(readFileSync(join(dist, target, 'stamp.json'), 'utf8')) as Stamp;

describe('palisade-agent through its bin', () => {
  it('runs the current build of the CLI, which answers --help like the sources do', async () => {
    const built = await start(['--help'], DEBUG).done;
    expect(built.code).toBe(0);
    expect(built.stdout).toContain('Usage: palisade-agent COMMAND');
    const stamp = readStamp('agent')!;
    expect(loadedFrom(built.stderr, 'agent')).toBe(join(DIST, 'agent', stamp.id));
    expect(isCurrent(stamp)).toBe(true);

    const source = await start(['--help'], { ...DEBUG, PALISADE_FROM_SOURCE: '1' }).done;
    expect(loadedFrom(source.stderr, 'agent')).toBe('the sources (tsx)');
    expect(source).toMatchObject({ code: 0, stdout: built.stdout });
  });

  it('builds when there is no build, reuses a current one, and rebuilds one that a source change made stale', async () => {
    const dist = join(scratch, 'stale');
    const env = { ...DEBUG, PALISADE_DIST: dist };
    const first = await start(['--version'], env).done;
    expect(first).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    const built = readStampIn(dist, 'agent');
    expect(loadedFrom(first.stderr, 'agent')).toBe(join(dist, 'agent', built.id));
    expect(built.files['agent-sdk/src/cli/main.ts']).toBeDefined();
    expect(built.packages['node_modules/zod/package.json']).toMatch(/^\d+\.\d+\.\d+/);

    const again = await start(['--version'], env).done;
    expect(loadedFrom(again.stderr, 'agent')).toBe(join(dist, 'agent', built.id));
    expect(readStampIn(dist, 'agent').builtAt).toBe(built.builtAt);
    // V8's code cache of what the runs compiled, beside the builds (build/launch.mjs COMPILE_CACHE).
    expect(readdirSync(join(dist, '.compile-cache'), { recursive: true }).length).toBeGreaterThan(0);

    // As if main.ts had been edited since: its recorded time and hash no longer match the file.
    const stale: Stamp = { ...built, files: { ...built.files, 'agent-sdk/src/cli/main.ts': [1, built.files['agent-sdk/src/cli/main.ts']![1], 'edited'] } };
    writeFileSync(join(dist, 'agent', 'stamp.json'), JSON.stringify(stale));
    const rebuilt = await start(['--version'], env).done;
    expect(rebuilt).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    const fresh = readStampIn(dist, 'agent');
    expect(fresh.builtAt).not.toBe(built.builtAt);
    expect(fresh.files['agent-sdk/src/cli/main.ts']).toEqual(built.files['agent-sdk/src/cli/main.ts']);
    expect(isCurrent(fresh)).toBe(true);
  });

  it('builds from any working directory (the build names its inputs from the repository, never from the cwd)', async () => {
    const dist = join(scratch, 'elsewhere');
    const run = await execFileAsync(process.execPath, [BIN, '--version'], { cwd: scratch, env: { ...process.env, ...DEBUG, PALISADE_DIST: dist } });
    expect(run.stdout).toBe('0.1.0\n');
    expect(run.stderr).not.toContain('from the TypeScript sources');
    expect(loadedFrom(run.stderr, 'agent')).toBe(join(dist, 'agent', readStampIn(dist, 'agent').id));
  }, 120_000);

  it('starts at once on an empty dist/ build it whole, once per content, and all run', async () => {
    const dist = join(scratch, 'race');
    const runs = await Promise.all(Array.from({ length: 4 }, () => start(['--version'], { ...DEBUG, PALISADE_DIST: dist }).done));
    for (const run of runs) expect(run).toMatchObject({ code: 0, stdout: '0.1.0\n' });
    const stamp = readStampIn(dist, 'agent');
    expect(new Set(runs.map((r) => loadedFrom(r.stderr, 'agent')))).toEqual(new Set([join(dist, 'agent', stamp.id)]));
    // The builds of identical sources landed in one directory; no half-written one is left.
    expect(readdirSync(join(dist, 'agent')).sort()).toEqual([stamp.id, 'stamp.json']);
  }, 120_000);
});

describe('isCurrent', () => {
  const root = join(scratch, 'project');
  const setup = () => {
    rmSync(root, { recursive: true, force: true });
    for (const [file, text] of Object.entries({ 'src/a.ts': 'export const a = 1;\n', 'node_modules/dep/package.json': '{"version":"1.0.0"}' })) {
      const path = join(root, file);
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, text);
    }
  };
  const stampOf = (): Stamp => {
    const st = statSync(join(root, 'src/a.ts'));
    const hash = createHash('sha256').update(readFileSync(join(root, 'src/a.ts'))).digest('hex').slice(0, 32);
    return { target: 'agent', id: 'x', builtAt: '', startedMs: Date.now(), files: { 'src/a.ts': [st.mtimeMs, st.size, hash] }, packages: { 'node_modules/dep/package.json': '1.0.0' } };
  };

  it('holds while nothing changed, and while a file was only touched (a checkout, a copy into an image)', () => {
    setup();
    const stamp = stampOf();
    expect(isCurrent(stamp, root)).toBe(true);
    utimesSync(join(root, 'src/a.ts'), new Date(), new Date(Date.now() + 5_000));
    expect(isCurrent(stamp, root)).toBe(true);
    // Not racy (built long after the file's last change): mtime and size alone decide, without reading the file.
    expect(isCurrent({ ...stamp, startedMs: stamp.startedMs + 60_000, files: { 'src/a.ts': [statSync(join(root, 'src/a.ts')).mtimeMs, stamp.files['src/a.ts']![1], 'not read'] } }, root)).toBe(true);
  });

  it('fails for an edit (even one keeping the size), a removed file, and another version of a bundled package', () => {
    setup();
    const stamp = stampOf();
    writeFileSync(join(root, 'src/a.ts'), 'export const a = 2;\n');
    expect(isCurrent(stamp, root)).toBe(false);
    setup();
    rmSync(join(root, 'src/a.ts'));
    expect(isCurrent(stamp, root)).toBe(false);
    setup();
    expect(isCurrent(stampOf(), root)).toBe(true);
    writeFileSync(join(root, 'node_modules/dep/package.json'), '{"version":"1.0.1"}');
    expect(isCurrent(stampOf(), root)).toBe(false);
  });
});

describe('npm start', () => {
  let server: ServerProcess | undefined;
  afterEach(async () => void (await server?.stop()));

  it('runs the current build of the server', async () => {
    server = startServer({ ...DEBUG, PALISADE_DATA_DIR: join(scratch, 'data') });
    const port = await server.ready;
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const stamp = readStamp('server')!;
    expect(loadedFrom(server.stderr(), 'server')).toBe(join(DIST, 'server', stamp.id));
    expect(isCurrent(stamp)).toBe(true);
  }, 120_000);
});
