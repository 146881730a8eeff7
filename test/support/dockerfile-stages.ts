import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';

/**
 * Runs a Dockerfile's stages without Docker (these machines have no daemon): each stage is a directory standing for
 * its WORKDIR, COPY copies from the build context (minus .dockerignore) or from an earlier stage, RUN runs in a shell
 * there. What it checks is the Dockerfile's own content: that its commands succeed and that the last stage holds
 * everything the entrypoint needs. What it cannot check is the base image: Node 22 and npm come from this machine.
 * Instructions it does not know fail the run, so a Dockerfile that outgrows it says so.
 */
export interface BuiltImage {
  /** The last stage's directory (its WORKDIR). */
  root: string;
  env: Record<string, string>;
  /** `USER uid:gid` of the last stage, when numeric. */
  user?: { uid: number; gid: number };
  entrypoint: string[];
  cmd: string[];
}

const instructions = (text: string) =>
  text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });

function ignoredBy(context: string): (rel: string) => boolean {
  const file = join(context, '.dockerignore');
  const patterns = existsSync(file) ? readFileSync(file, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : [];
  return (rel) => patterns.some((p) => (p.startsWith('**/') ? rel.split('/').includes(p.slice(3)) : rel === p || rel.startsWith(`${p}/`)));
}

/** Builds the stages of `context`/Dockerfile under `scratch`; throws with the failing instruction and its output. */
export function buildWithoutDocker(context: string, scratch: string): BuiltImage {
  const ignored = ignoredBy(context);
  const stages: Record<string, string> = {};
  let dir = '';
  let workdir = '/';
  let image: BuiltImage | undefined;
  for (const { op, args } of instructions(readFileSync(join(context, 'Dockerfile'), 'utf8'))) {
    if (op === 'FROM') {
      dir = join(scratch, `stage-${Object.keys(stages).length}`);
      mkdirSync(dir, { recursive: true });
      stages[/\bAS\s+(\S+)/i.exec(args)?.[1] ?? String(Object.keys(stages).length)] = dir;
      image = { root: dir, env: {}, entrypoint: [], cmd: [] };
    } else if (op === 'WORKDIR') workdir = posix.resolve(workdir, args);
    else if (op === 'ENV') for (const [, k, v] of args.matchAll(/(\w+)=(\S+)/g)) image!.env[k!] = v!;
    else if (op === 'USER') {
      const [uid, gid] = args.split(':').map(Number);
      if (Number.isInteger(uid)) image!.user = { uid: uid!, gid: Number.isInteger(gid) ? gid! : uid! };
    } else if (op === 'ENTRYPOINT') image!.entrypoint = JSON.parse(args) as string[];
    else if (op === 'CMD') image!.cmd = JSON.parse(args) as string[];
    else if (op === 'COPY') copy(args, dir, workdir, context, stages, ignored);
    else if (op === 'RUN') {
      const run = spawnSync('sh', ['-c', args], {
        cwd: dir,
        encoding: 'utf8',
        // The base image's Node 22 first; npm from the npm cache where it can (the project's own `npm ci` filled it).
        env: { ...process.env, ...image!.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, npm_config_prefer_offline: 'true' },
      });
      if (run.status !== 0) throw new Error(`Dockerfile: RUN ${args} failed (${run.status}):\n${run.stdout}\n${run.stderr}`);
    } else throw new Error(`Dockerfile: ${op} is not understood by buildWithoutDocker`);
  }
  if (!image) throw new Error('Dockerfile: no stage');
  return image;
}

function copy(args: string, dir: string, workdir: string, context: string, stages: Record<string, string>, ignored: (rel: string) => boolean): void {
  const words = args.split(/\s+/);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const sources = words.filter((w) => !w.startsWith('--'));
  const dest = sources.pop()!;
  // Inside a stage, paths are absolute in the image; its directory stands for its WORKDIR (every stage uses /app).
  const inStage = (path: string) => join(stages[from!]!, posix.relative(workdir, posix.resolve(workdir, path)));
  const target = join(dir, posix.relative(workdir, posix.resolve(workdir, dest)));
  for (const source of sources) {
    const src = from === undefined ? join(context, source) : inStage(source);
    if (from !== undefined && !(from in stages)) throw new Error(`Dockerfile: COPY --from=${from}: no such stage`);
    const isDir = statSync(src).isDirectory();
    const to = isDir || !dest.endsWith('/') ? target : join(target, basename(src));
    mkdirSync(dirname(to), { recursive: true });
    cpSync(src, to, {
      recursive: true,
      preserveTimestamps: true, // as COPY keeps them
      filter: (path) => from !== undefined || !ignored(posix.relative(context, path)),
    });
  }
}
