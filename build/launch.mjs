// What the launchers (agent-sdk/bin/palisade-agent.mjs, workers/node/start.mjs, the scanner's worker) call to load
// their code: the build in dist/ when it is current, else a fresh build, else, where no build can be made (esbuild not
// installed, a read-only file system), the TypeScript sources through tsx. Never a stale build: a source edited since
// the last build is rebuilt before it runs (about 0.2-0.5 s, once).
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ensureCurrent, ROOT, TARGETS } from './build.mjs';
import { useCompileCache } from './dist.mjs';

/**
 * Imports entry `entry` of `target` (see `TARGETS` in build.mjs): `load('agent')` is agent-sdk/src/cli/main.ts as
 * built. `PALISADE_FROM_SOURCE=1` runs the sources through tsx whatever the state of the build.
 */
export async function load(target, entry = Object.keys(TARGETS[target].entries)[0]) {
  const source = TARGETS[target].entries[entry];
  const dir = process.env.PALISADE_FROM_SOURCE === '1' ? undefined : await currentBuild(target);
  // For the tests and for anyone wondering what runs: which code this process loaded.
  if (process.env.PALISADE_BUILD_DEBUG) console.error(`palisade: ${target}/${entry} from ${dir ?? 'the sources (tsx)'}`);
  if (dir !== undefined) {
    useCompileCache();
    return import(pathToFileURL(join(dir, `${entry}.mjs`)).href);
  }
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(ROOT, source)).href);
}

/** The directory of a current build of `target`, building it if needed; undefined when none can be had. */
async function currentBuild(target) {
  try {
    return await ensureCurrent(target);
  } catch (err) {
    // Without esbuild (`npm ci --omit=dev`) the sources are the intended way; anything else is worth a line, as the
    // start is then slower (a compile error is reported again, with its place, by tsx).
    const noEsbuild = err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes("'esbuild'");
    if (!noEsbuild || process.env.PALISADE_BUILD_DEBUG) console.error(`palisade: running ${target} from the TypeScript sources (no build: ${String(err?.message ?? err).split('\n')[0]})`);
    return undefined;
  }
}
