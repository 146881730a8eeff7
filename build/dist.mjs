// Where builds go, and V8's code cache of what the launchers load. Plain JavaScript with only Node's own imports, so
// a launcher can import it before anything else and have the cache cover all that follows.
import * as nodeModule from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where builds go: dist/ (PALISADE_DIST elsewhere, for the tests). */
export const DIST = process.env.PALISADE_DIST ? resolve(process.env.PALISADE_DIST) : fileURLToPath(new URL('../dist', import.meta.url));

/**
 * V8's code cache, kept in dist/ (not in a shared temporary directory, where another user could plant code): a start
 * after the first skips most of compiling the modules. Where it cannot be written (a read-only image), Node runs on
 * without it, and Node before 22.1 has none.
 */
export const COMPILE_CACHE = join(DIST, '.compile-cache');

/** Enables the code cache for this process (again in a worker thread, which has its own). */
export function useCompileCache() {
  nodeModule.enableCompileCache?.(COMPILE_CACHE);
}
