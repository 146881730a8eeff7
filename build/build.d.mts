// Types of build.mjs, for the TypeScript that imports it (the tests' global setup, bench/startup.bench.ts).
export type Target = 'agent' | 'server';

export interface Stamp {
  target: Target;
  id: string;
  builtAt: string;
  /** Date.now() when the build started reading the sources. */
  startedMs: number;
  /** Project files compiled (and the build's configuration): [mtimeMs, size, hash of the text]. */
  files: Record<string, [number, number, string]>;
  /** package.json of each bundled package, relative to the root: its version. */
  packages: Record<string, string>;
}

export const ROOT: string;
export const DIST: string;
export const TARGETS: Record<Target, { entries: Record<string, string>; external: string[] }>;
export function readStamp(target: Target): Stamp | undefined;
export function buildDir(target: Target, stamp: Stamp): string;
export function isCurrent(stamp: Stamp, root?: string): boolean;
export function ensureCurrent(target: Target): Promise<string>;
export function build(target: Target): Promise<Stamp>;
