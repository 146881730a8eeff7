/** A host path with `.`, `..`, repeated and trailing slashes resolved, the way the kernel walks it (no symlinks). */
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
