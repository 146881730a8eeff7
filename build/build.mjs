// Builds the agent CLI and the Node server into dist/<target>/ with esbuild, so neither transpiles TypeScript at
// start (tsx did, on every start: about 60% of `palisade-agent evaluate`'s wall time). Plain JavaScript on purpose:
// the launchers import this file before anything can be transpiled.
//
//   node build/build.mjs [agent] [server]     (no target: both; `npm run build`, also run by `npm ci` as `prepare`)
//
// A build lands whole or not at all, so concurrent starts may rebuild at once: esbuild writes into a private temporary
// directory, which is renamed to dist/<target>/<id> (id: a hash of what was compiled), then dist/<target>/stamp.json
// is replaced atomically. The stamp records every project file compiled (mtime, size, hash of the exact text
// compiled) and the version of every package bundled, so `launch.mjs` tells a current build from a stale one with a
// few hundred stat calls.
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export { DIST } from './dist.mjs';
import { DIST } from './dist.mjs';

/**
 * What each target compiles. Packages stay external when they load files beside their own code (PGlite's and
 * 7z-wasm's WebAssembly) or are large and loaded only by a command that runs for long (the Kubernetes client, loaded
 * by `palisade-agent node` alone); everything else is bundled, which is most of the gain: Node resolves and compiles
 * one file instead of hundreds (zod, yaml, jose, hono, drizzle).
 */
export const TARGETS = {
  agent: { entries: { main: 'agent-sdk/src/cli/main.ts', 'pool-worker': 'agent-sdk/src/scanner/pool-worker.ts' }, external: ['7z-wasm', '@kubernetes/client-node'] },
  server: { entries: { node: 'workers/node.ts' }, external: ['@electric-sql/pglite'] },
};

/** Files that shape the output without being compiled: a change to any of them makes a build stale too. */
const CONFIG_FILES = ['build/build.mjs', 'tsconfig.json', 'package.json', 'agent-sdk/package.json'];

// node:crypto when first needed: a start whose build is current (the usual one) hashes nothing, and importing it costs
// about 3 ms of the agent's start.
const require = createRequire(import.meta.url);
const crypto = () => require('node:crypto');
const sha = (text) => crypto().createHash('sha256').update(text).digest('hex').slice(0, 32);
const posix = (path) => path.split(sep).join('/');

/** stamp.json of `target`, or undefined when it has never been built. */
export function readStamp(target) {
  try {
    return JSON.parse(readFileSync(join(DIST, target, 'stamp.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** The directory holding the build of `target` that `stamp` names. */
export const buildDir = (target, stamp) => join(DIST, target, stamp.id);

/**
 * Whether the build `stamp` describes is what the sources and installed packages compile to now. A file whose mtime
 * and size match is taken as unchanged; one whose mtime moved (a checkout, a copy into an image) is hashed and
 * compared with the text compiled.
 */
export function isCurrent(stamp, root = ROOT) {
  for (const [file, [mtimeMs, size, hash]] of Object.entries(stamp.files)) {
    const path = join(root, file);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st || st.size !== size) return false;
    // As git does for its index: a file modified in the second before its build started may have been modified again
    // within the file system's timestamp granularity, unseen by its mtime, so it is hashed too.
    const racy = mtimeMs >= stamp.startedMs - 1000;
    if ((st.mtimeMs !== mtimeMs || racy) && sha(readFileSync(path)) !== hash) return false;
  }
  for (const [manifest, version] of Object.entries(stamp.packages)) {
    try {
      if (JSON.parse(readFileSync(join(root, manifest), 'utf8')).version !== version) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * The directory of a current build of `target`: the existing one when `isCurrent`, else a new one. Throws when none
 * can be made (esbuild not installed, a read-only file system, a compile error).
 */
export async function ensureCurrent(target) {
  const stamp = readStamp(target);
  return buildDir(target, stamp && isCurrent(stamp) ? stamp : await build(target));
}

/** The package.json of the package a file under node_modules belongs to (relative to the root), and its version. */
function packageOf(file) {
  const parts = file.split('/');
  const at = parts.lastIndexOf('node_modules');
  const manifest = [...parts.slice(0, at + (parts[at + 1]?.startsWith('@') ? 3 : 2)), 'package.json'].join('/');
  return [manifest, JSON.parse(readFileSync(join(ROOT, manifest), 'utf8')).version];
}

/**
 * An esbuild plugin that reads the project's own files itself, so the stamp holds the hash of the very text compiled
 * (a file edited during the build is then stale at the next start, not silently missed), and that keeps
 * `import.meta.url` meaning the source file's URL: `new URL('../migrations', import.meta.url)` in workers/node.ts
 * must find the same folder from dist/ as from the sources. Every output file sits directly in `outDir`, so the
 * source's path relative to that directory works from any chunk.
 */
function projectFiles(files, outDir) {
  return {
    name: 'palisade-project-files',
    setup(build) {
      build.onLoad({ filter: /\.(ts|tsx|mts|mjs|js|json)$/ }, (args) => {
        const file = posix(relative(ROOT, args.path));
        if (file.startsWith('..') || file.includes('node_modules/')) return undefined;
        const st = statSync(args.path);
        const bytes = readFileSync(args.path);
        files[file] = [st.mtimeMs, st.size, sha(bytes)];
        const text = bytes.toString('utf8');
        const fromOut = posix(relative(outDir, args.path));
        const contents = text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromOut)}, import.meta.url).href`);
        const ext = extname(args.path).slice(1);
        return { contents, loader: ext === 'mts' ? 'ts' : ext === 'mjs' ? 'js' : ext };
      });
    },
  };
}

/**
 * zod re-exports every locale (`z.locales` and `z.core.locales`, 64 of them, most of the 0.7 MB zod chunk) although
 * only English is configured and nothing here names another: the build sees those namespaces as English alone, so a
 * start does not load the other 63.
 */
const zodEnglishOnly = {
  name: 'palisade-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: join(dirname(args.importer), '..', 'locales', 'en.js'), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({ contents: `export { default as en } from ${JSON.stringify(args.path)};`, loader: 'js', resolveDir: dirname(args.path) }));
  },
};

/** Builds `target`; returns its new stamp. Throws when esbuild is not installed (a production install) or fails. */
export async function build(target) {
  const spec = TARGETS[target];
  if (!spec) throw new Error(`unknown build target "${target}" (one of ${Object.keys(TARGETS).join(', ')})`);
  const { build: esbuild } = await import('esbuild');
  const parent = join(DIST, target);
  const tmp = join(parent, `.tmp-${process.pid}-${crypto().randomBytes(4).toString('hex')}`);
  const files = {};
  const startedMs = Date.now();
  for (const file of CONFIG_FILES) {
    const path = join(ROOT, file);
    const st = statSync(path);
    files[file] = [st.mtimeMs, st.size, sha(readFileSync(path))];
  }
  try {
    const result = await esbuild({
      absWorkingDir: ROOT,
      entryPoints: Object.entries(spec.entries).map(([out, input]) => ({ out, in: input })),
      outdir: tmp,
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true, // a command's imports stay lazy: `scan` alone loads the archive decoders
      format: 'esm',
      platform: 'node',
      target: 'node22',
      external: spec.external,
      // CommonJS packages bundled into ESM call require() for Node's own modules.
      banner: { js: "import { createRequire as __palisadeRequire } from 'node:module'; const require = __palisadeRequire(import.meta.url);" },
      sourcemap: 'linked',
      metafile: true,
      logLevel: 'silent',
      plugins: [zodEnglishOnly, projectFiles(files, join(parent, 'id'))], // the final directory's depth: dist/<target>/<id>
    });
    const packages = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      if (!input.includes('node_modules/')) continue;
      // Inputs are named relative to absWorkingDir (ROOT), never to the cwd, which may be anywhere; a module a plugin
      // made (`zod-locales:/…/en.js`) is named after its namespace, then its absolute path.
      const [manifest, version] = packageOf(relative(ROOT, resolve(ROOT, input.replace(/^[a-z-]+:/, ''))));
      packages[manifest] = version;
    }
    const sorted = (o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
    const id = sha(JSON.stringify([sorted(files), sorted(packages), Object.keys(result.metafile.outputs).map((o) => posix(relative(tmp, o))).sort()]));
    const stamp = { target, id, builtAt: new Date().toISOString(), startedMs, files: sorted(files), packages: sorted(packages) };
    try {
      renameSync(tmp, join(parent, id));
    } catch (err) {
      // Another start built the same sources meanwhile (ENOTEMPTY, EEXIST): theirs is as good as ours.
      if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    }
    const stampTmp = join(parent, `.stamp-${process.pid}-${crypto().randomBytes(4).toString('hex')}.json`);
    writeFileSync(stampTmp, `${JSON.stringify(stamp, null, 1)}\n`);
    renameSync(stampTmp, join(parent, 'stamp.json'));
    prune(parent, id);
    return stamp;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Removes old builds, keeping the newest few: a process started from one may still import its lazily loaded chunks
 * (a command's modules), so a build is not removed the moment a newer one lands. Temporary leftovers of a build that
 * crashed are removed after ten minutes.
 */
function prune(parent, current, keep = 3) {
  const now = Date.now();
  const entries = readdirSync(parent, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== current)
    .map((e) => ({ name: e.name, mtime: statSync(join(parent, e.name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  const builds = entries.filter((e) => !e.name.startsWith('.')).sort((a, b) => b.mtime - a.mtime);
  const doomed = [...builds.slice(keep - 1), ...entries.filter((e) => e.name.startsWith('.tmp-') && now - e.mtime > 600_000)];
  for (const { name } of doomed) rmSync(join(parent, name), { recursive: true, force: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const targets = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(TARGETS);
  for (const target of targets) {
    const started = performance.now();
    try {
      const stamp = await build(target);
      console.log(`built ${target} in ${(performance.now() - started).toFixed(0)} ms: ${posix(relative(ROOT, buildDir(target, stamp)))}`);
    } catch (err) {
      if (err?.code === 'ERR_MODULE_NOT_FOUND' && /'esbuild'/.test(err.message)) {
        // `npm ci --omit=dev`: nothing to build with; the launchers then run the sources through tsx.
        console.log(`not building ${target}: esbuild is not installed (the launchers fall back to tsx)`);
        continue;
      }
      console.error(`build of ${target} failed:`, err);
      process.exitCode = 1;
    }
  }
}
