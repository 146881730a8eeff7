import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../support/server-process.ts';

// `npm start` as a user runs it: a real process on a real data directory. Each start migrates PGlite, so the
// timeouts are generous for a loaded machine.
const KEY_1 = 'psk_test_first_0123456789abcdef0123456789abcdef';
const KEY_2 = 'psk_test_second_0123456789abcdef0123456789abcdef';
const root = mkdtempSync(join(tmpdir(), 'palisade-start-'));
const running: ServerProcess[] = [];
afterEach(async () => void (await Promise.all(running.splice(0).map((s) => s.stop()))));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function start(dataDir: string, env: Record<string, string> = {}): ServerProcess {
  const server = startServer({ PALISADE_DATA_DIR: dataDir, ...env });
  running.push(server);
  return server;
}

const status = (port: number, key: string) => fetch(`http://127.0.0.1:${port}/v1/scopes`, { headers: { authorization: `Bearer ${key}` } }).then((r) => r.status);

/** Every path under `dir` whose mode lets group or others in, with its mode. */
function openToOthers(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string) => {
    const stat = lstatSync(path);
    if (stat.isSymbolicLink()) return;
    if ((stat.mode & 0o077) !== 0) found.push(`${path} ${(stat.mode & 0o777).toString(8)}`);
    if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return found;
}

const oneLine = (text: string) => text.trim().split('\n');

describe('npm start on a data directory', () => {
  it('adds PALISADE_BOOTSTRAP_KEY on an existing directory, never prints it, and never revives a revoked key', async () => {
    const dir = join(root, 'bootstrap');
    const first = start(dir, { PALISADE_BOOTSTRAP_KEY: KEY_1 });
    let port = await first.ready;
    expect(await status(port, KEY_1)).toBe(200);
    expect(await status(port, KEY_2)).toBe(401);
    await first.stop();

    // The walkthrough's situation: the directory exists, the user sets a (new) key.
    const second = start(dir, { PALISADE_BOOTSTRAP_KEY: KEY_2 });
    port = await second.ready;
    expect(second.stdout()).toMatch(/PALISADE_BOOTSTRAP_KEY: this data directory already had tenant "default"; the key is now its administrator API key/);
    expect(await status(port, KEY_2)).toBe(200);
    expect(await status(port, KEY_1)).toBe(200);
    expect(second.stdout() + second.stderr()).not.toContain(KEY_2);
    // Both keys act on the same tenant: what one creates the other sees.
    const created = await fetch(`http://127.0.0.1:${port}/v1/scopes`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY_2}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'seen-by-both', resources: [{ type: 'cluster', cluster: 'a-*' }] }),
    });
    expect(created.status).toBe(201);
    const listed = (await (await fetch(`http://127.0.0.1:${port}/v1/scopes?name=seen-by-both`, { headers: { authorization: `Bearer ${KEY_1}` } })).json()) as { items: unknown[] };
    expect(listed.items).toHaveLength(1);
    // Revoke the added key with the first one.
    const keys = (await (await fetch(`http://127.0.0.1:${port}/v1/api-keys?limit=100`, { headers: { authorization: `Bearer ${KEY_1}` } })).json()) as { items: Array<{ id: string; name: string }> };
    const added = keys.items.find((k) => k.name.startsWith('bootstrap key added'))!;
    expect(added).toBeDefined();
    const revoked = await fetch(`http://127.0.0.1:${port}/v1/api-keys/${added.id}/revoke`, { method: 'POST', headers: { authorization: `Bearer ${KEY_1}` } });
    expect(revoked.status).toBeLessThan(300);
    await second.stop();

    // A revoked key left in the environment stays revoked, and the operator is told so.
    const third = start(dir, { PALISADE_BOOTSTRAP_KEY: KEY_2 });
    port = await third.ready;
    expect(third.stderr()).toMatch(/PALISADE_BOOTSTRAP_KEY is an API key of this installation that is revoked; it stays revoked/);
    expect(await status(port, KEY_2)).toBe(401);
    expect(await status(port, KEY_1)).toBe(200);
    await third.stop();

    // Without the variable: nothing added, and a hint for the user who lost the key.
    const fourth = start(dir);
    await fourth.ready;
    expect(fourth.stdout()).toMatch(/Lost it\? Restart with PALISADE_BOOTSTRAP_KEY/);
  }, 240_000);

  it('locks the data directory, and a busy port or a locked directory is one line and exit 1', async () => {
    const dir = join(root, 'locked');
    const first = start(dir, { PALISADE_BOOTSTRAP_KEY: KEY_1 });
    const port = await first.ready;
    const second = start(dir);
    expect(await second.exited).toBe(1);
    expect(oneLine(second.stderr())).toEqual([expect.stringMatching(/^palisade: the data directory .*locked is in use by another Palisade server \(pid \d+\)/)]);
    // Refused before the database was opened (nothing about tenants was printed).
    expect(second.stdout()).toBe('');

    const other = join(root, 'port-busy');
    const third = start(other, { PORT: String(port) });
    expect(await third.exited).toBe(1);
    expect(oneLine(third.stderr())).toEqual([`palisade: port ${port} is already in use (another Palisade server?); stop that process or set PORT to a free port`]);
    expect(existsSync(join(other, 'palisade.lock'))).toBe(false);

    // The first server is unharmed, and releases its lock on stop.
    expect(await status(port, KEY_1)).toBe(200);
    await first.stop();
    expect(existsSync(join(dir, 'palisade.lock'))).toBe(false);
  }, 240_000);

  it('keeps the data directory owner-only, fixes an existing one at start, and takes over a stale lock (finding 7)', async () => {
    const dir = join(root, 'modes');
    const first = start(dir, { PALISADE_BOOTSTRAP_KEY: KEY_1 });
    const port = await first.ready;
    expect(await status(port, KEY_1)).toBe(200);
    expect(openToOthers(dir)).toEqual([]);
    await first.stop();
    expect(existsSync(join(dir, 'pg_wal'))).toBe(true);

    // A directory written by an earlier release (or copied with a loose umask): opened up, then fixed by a start.
    const opened: string[] = [];
    const walk = (path: string) => {
      const stat = lstatSync(path);
      chmodSync(path, stat.isDirectory() ? 0o755 : 0o644);
      opened.push(path);
      if (stat.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    };
    walk(dir);
    expect(openToOthers(dir).length).toBe(opened.length);
    // ... and left a lock behind, as `kill -9` would: its pid belongs to a process that has exited.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, 'palisade.lock'), `${gone}\n`);
    const second = start(dir);
    const again = await second.ready;
    expect(openToOthers(dir)).toEqual([]);
    expect(await status(again, KEY_1)).toBe(200);
    await second.stop();
    expect(openToOthers(dir)).toEqual([]);
  }, 240_000);
});
