import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockedBy, HOST_SYMLINKS, resolveHostPath } from '../../agent-sdk/src/engine/paths.ts';

const PIDS = ['1', '42', 'self', 'thread-self'];
const TIDS = ['1', '42'];

/** Every magic link location of the model's processes, with where it points (`undefined`: unknown, may be anything). */
const MAGIC = new Map<string, string | undefined>();
for (const p of PIDS)
  for (const base of [`/proc/${p}`, ...TIDS.map((t) => `/proc/${p}/task/${t}`)]) {
    MAGIC.set(`${base}/root`, '/');
    for (const l of ['cwd', 'fd', 'exe', 'map_files']) MAGIC.set(`${base}/${l}`, undefined);
  }

/**
 * The slow reference: the kernel's walk over a model host, restarting from the root at every symlink (a link's
 * target replaces the walked prefix and the rest is walked after it), with the same aliases as plain data.
 */
function reference(raw: string): { path: string; anything: boolean } {
  let queue = raw.split('/');
  let current: string[] = [];
  while (queue.length > 0) {
    const seg = queue.shift()!;
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      current.pop();
      continue;
    }
    current.push(seg);
    const here = `/${current.join('/')}`;
    const link = MAGIC.has(here) ? MAGIC.get(here) ?? null : HOST_SYMLINKS[here];
    if (link === null) return { path: here, anything: true };
    if (link !== undefined) {
      queue = [...link.split('/'), ...queue];
      current = [];
    }
  }
  const path = `/${current.join('/')}`;
  // A directory holding a magic link exposes what the link reaches (magic links jump, wherever they are mounted).
  const holds = [...MAGIC.keys()].some((m) => m.startsWith(path === '/' ? '/' : `${path}/`));
  return { path, anything: holds && path !== '/' };
}

const text = (p: string) => `/${p.split('/').filter((s) => s !== '' && s !== '.').reduce<string[]>((o, s) => (s === '..' ? o.slice(0, -1) : [...o, s]), []).join('/')}`;
const within = (p: string, d: string) => d === '/' || p === d || p.startsWith(`${d}/`);
function referenceBlocked(host: string, blocked: string[]): boolean {
  const own = reference(host);
  if (own.anything) return blocked.length > 0;
  const mine = [text(host), own.path];
  return blocked.some((b) => {
    const r = reference(b);
    const theirs = r.anything ? [text(b)] : [text(b), r.path];
    return mine.some((m) => theirs.some((t) => within(m, t) || within(t, m)));
  });
}

const SEGMENTS = ['', '.', '..', 'proc', ...PIDS, 'task', 'root', 'cwd', 'fd', 'status', 'sys', 'var', 'run', 'lock', 'etc', 'ssh', 'bin', 'sbin', 'usr', 'lib', 'lib64', 'containerd'];
const hostPath = fc.array(fc.constantFrom(...SEGMENTS), { maxLength: 9 }).map((s) => `/${s.join('/')}`);

describe('volumesBlocked path resolution', () => {
  it('agrees with a slow kernel-walk reference on random host and blocked paths', () => {
    fc.assert(
      fc.property(hostPath, fc.array(hostPath, { minLength: 1, maxLength: 3 }), (host, blocked) => {
        const fast = resolveHostPath(host);
        const slow = reference(host);
        expect(fast.anything).toBe(slow.anything);
        if (!slow.anything) expect(fast.path).toBe(slow.path);
        expect(blockedBy(host, blocked) !== undefined).toBe(referenceBlocked(host, blocked));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ['/proc/1/root/etc', '/etc', false],
    ['/proc/self/root/var/run/containerd', '/run/containerd', false],
    ['/proc/1/task/7/root/etc', '/etc', false],
    ['/var/run/../etc', '/etc', false],
    ['/var/lock/x', '/run/lock/x', false],
    ['/lib64/ld.so', '/usr/lib64/ld.so', false],
    ['/proc/self/cwd', '/proc/self/cwd', true],
    ['/proc/1', '/proc/1', true],
    ['/proc', '/proc', true],
    ['/proc/sys', '/proc/sys', false],
    ['/var', '/var', false],
  ])('%s reaches %s (anything: %s)', (raw, path, anything) => expect(resolveHostPath(raw)).toEqual({ path, anything }));

  it('names the blocked path as written, and a parent of a blocked path is blocked', () => {
    expect(blockedBy('/var/run/containerd/containerd.sock', ['/etc', '/run/containerd'])).toBe('/run/containerd');
    expect(blockedBy('/var/run', ['/var/run/docker.sock'])).toBe('/var/run/docker.sock');
    expect(blockedBy('/', ['/etc'])).toBe('/etc');
    expect(blockedBy('/usr', ['/bin/sh'])).toBe('/bin/sh');
    expect(blockedBy('/var', ['/run/containerd'])).toBeUndefined();
  });
});
