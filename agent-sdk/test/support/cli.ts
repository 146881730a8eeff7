import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root: `npx palisade-agent` resolves the workspace's bin from here. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/** Ends any process group this file started that is still running (a failed test must not leave an agent behind). */
export function killStarted(): void {
  for (const child of running) if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  running.clear();
}

/**
 * Starts `npx palisade-agent ARGS` as a real process, in its own process group (so a test can signal it and its
 * children), with `env` added to the environment.
 */
export function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run>; output: () => string } {
  const child = spawn('npx', ['--no-install', 'palisade-agent', ...args], { cwd: REPO, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done, output: () => stdout };
}

export const cli = (...args: string[]): Promise<Run> => start(args).done;

/** SIGKILL to the whole process group: npx and the agent under it die at once, without a chance to clean up. */
export function killHard(child: ChildProcess): void {
  if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
}
