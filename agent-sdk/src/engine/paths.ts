/** A host path with `.`, `..`, repeated and trailing slashes resolved as text (no symlinks). */
export function normalizeHostPath(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

/** Whether `path` is `dir` or lies under it, both normalized: `/etc` holds `/etc/ssh` but not `/etcd`. */
export function pathWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * Directories that are symlinks on current distributions (systemd's `/var/run` → `/run`, `/var/lock` → `/run/lock`;
 * merged `/usr`). Where a node does not merge `/usr`, treating `/bin` as `/usr/bin` only blocks more, never less.
 */
export const HOST_SYMLINKS: Readonly<Record<string, string>> = {
  '/var/run': '/run',
  '/var/lock': '/run/lock',
  '/bin': '/usr/bin',
  '/sbin': '/usr/sbin',
  '/lib': '/usr/lib',
  '/lib32': '/usr/lib32',
  '/lib64': '/usr/lib64',
  '/libx32': '/usr/libx32',
};

/** A `/proc` process directory: a pid, `self` or `thread-self`. */
const PROCESS = /^(\d+|self|thread-self)$/;
/** Magic links of a process whose target the engine cannot know (a working directory, open files, mappings). */
const UNKNOWN_LINKS = new Set(['cwd', 'fd', 'exe', 'map_files']);

/** Where the walk is inside `/proc/<pid>[/task/<tid>]`: the index of the entry after it, or -1 outside. */
function processEntry(stack: string[]): number {
  if (stack[0] !== 'proc' || stack.length < 2 || !PROCESS.test(stack[1]!)) return -1;
  if (stack[2] === 'task' && stack.length >= 4 && /^\d+$/.test(stack[3]!)) return 4;
  return 2;
}

/**
 * What a host path reaches, resolved the way the kernel walks it with the well-known aliases: `/proc/<pid>/root`
 * (also `self`, `thread-self`, `task/<tid>/root`) is the host's root, `HOST_SYMLINKS` are followed, and `..` after a
 * symlink leaves its target (`/var/run/../etc` is `/etc`). `anything` when the path may reach any file: a process's
 * `cwd`, `fd`, `exe` or `map_files`, or a `/proc` directory holding such links or a root link (`/proc`, `/proc/1`).
 *
 * @example
 * ```ts
 * resolveHostPath('/proc/1/root/var/run/containerd'); // { path: '/run/containerd', anything: false }
 * resolveHostPath('/proc/self/cwd');                  // { path: '/proc/self/cwd', anything: true }
 * ```
 */
export function resolveHostPath(raw: string): { path: string; anything: boolean } {
  let stack: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      stack.pop();
      continue;
    }
    stack.push(seg);
    const entry = processEntry(stack);
    if (entry >= 0 && stack.length === entry + 1) {
      if (stack[entry] === 'root') stack = [];
      else if (UNKNOWN_LINKS.has(stack[entry]!)) return { path: `/${stack.join('/')}`, anything: true };
      continue;
    }
    const link = HOST_SYMLINKS[`/${stack.join('/')}`];
    if (link !== undefined) stack = link.slice(1).split('/');
  }
  const path = `/${stack.join('/')}`;
  // `/proc`, `/proc/<pid>`, `/proc/<pid>/task[/<tid>]` hold root and cwd links: whatever is mounted there reaches all.
  const holdsLinks = stack[0] === 'proc' && (stack.length === 1 || (PROCESS.test(stack[1]!) && (stack.length === 2 || (stack[2] === 'task' && (stack.length === 3 || (stack.length === 4 && /^\d+$/.test(stack[3]!)))))));
  return { path, anything: holdsLinks };
}

/**
 * The blocked path a host path reaches, or `undefined`: the path, resolved or as written, lies under a blocked path
 * (resolved or as written), or holds one (mounting `/` exposes `/etc`), or may reach anything.
 */
export function blockedBy(hostPath: string, blocked: readonly string[]): string | undefined {
  const own = resolveHostPath(hostPath);
  if (own.anything) return blocked[0];
  const mine = [normalizeHostPath(hostPath), own.path];
  return blocked.find((b) => {
    const target = resolveHostPath(b);
    const theirs = target.anything ? [normalizeHostPath(b)] : [normalizeHostPath(b), target.path];
    return mine.some((m) => theirs.some((t) => pathWithin(m, t) || pathWithin(t, m)));
  });
}
