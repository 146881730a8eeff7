import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { tetragonExec, type ShapePod } from './tetragon-shape.ts';

export interface BpftraceExecOptions {
  /** Only programs started from under this directory are reported (the kernel-side filter). */
  pathPrefix: string;
  /** The pod identity given to the reported processes (they run outside Kubernetes). */
  pod: ShapePod;
  node?: string;
  onLine: (tetragonJson: string) => void;
  onReady?: () => void;
  onExit?: (code: number | null, stderr: string) => void;
  bpftrace?: string;
}

/**
 * A thin sensor for machines without Tetragon: `bpftrace` on the `sched:sched_process_exec` tracepoint, filtered in
 * the kernel to programs under `pathPrefix`, each exec rewritten into Tetragon's `process_exec` JSON shape so the
 * node agent's normal path (adapter, decisions, kill) handles it. Detect only, like any user-space sensor. Needs root.
 */
export function bpftraceExecSource(o: BpftraceExecOptions): ChildProcess {
  const prefix = o.pathPrefix.replace(/["\\]/g, '');
  const program = `
tracepoint:sched:sched_process_exec
/strncmp(str(args->filename), "${prefix}", ${Buffer.byteLength(prefix)}) == 0/
{ printf("EXEC %d %s\\n", args->pid, str(args->filename)); }
BEGIN { printf("READY\\n"); }`;
  const child = spawn(o.bpftrace ?? 'bpftrace', ['-e', program], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  child.on('exit', (code) => o.onExit?.(code, stderr));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line === 'READY') return o.onReady?.();
    const m = /^EXEC (\d+) (.+)$/.exec(line);
    if (!m) return;
    const time = new Date().toISOString();
    o.onLine(JSON.stringify(tetragonExec({ time, node: o.node ?? 'local', pod: o.pod, process: { pid: Number(m[1]), binary: m[2]! } })));
  });
  return child;
}
