import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKey, sign } from '../../agent-sdk/test/support/bundles.ts';
import { badPod, goodPod, webhookBundle } from '../../agent-sdk/test/support/webhook.ts';
import { buildWithoutDocker, type BuiltImage } from '../support/dockerfile-stages.ts';

// The agent image, built from the Dockerfile's own instructions (see buildWithoutDocker: no Docker daemon here) and
// run as the image runs it: its entrypoint, its USER (when this process may switch to it), its read-only build.
const REPO = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'palisade-image-'));
chmodSync(scratch, 0o755); // the image's user reads the tree and the inputs
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let image: BuiltImage;
const inputs = join(scratch, 'inputs');
// The base image's `node`: this process's own binary may sit where the image's user cannot reach it (a checkout in a
// 0700 directory), so the image runs a copy of it.
const node = join(scratch, 'node');
const asRoot = process.getuid?.() === 0;

beforeAll(async () => {
  image = buildWithoutDocker(REPO, join(scratch, 'image'));
  mkdirSync(inputs, { mode: 0o755 });
  copyFileSync(process.execPath, node);
  chmodSync(node, 0o755);
  const { key, jwks } = await newKey();
  const content = await webhookBundle();
  const files = {
    'bundle.jws': await sign(key, { revision: 3, content, tenantId: content.tenantId, clusterId: content.cluster.id }),
    'jwks.json': JSON.stringify(jwks),
    'good.json': JSON.stringify(goodPod()),
    'bad.json': JSON.stringify(badPod()),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(inputs, name), text, { mode: 0o644 });
}, 300_000);

/** The image's entrypoint with `args` (its CMD when none), in its environment, as its user where possible. */
function run(args?: string[]) {
  const [command, ...entry] = image.entrypoint;
  expect(command).toBe('node');
  const user = asRoot && image.user ? image.user : {};
  const result = spawnSync(node, [...entry, ...(args ?? image.cmd)], {
    cwd: image.root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: inputs, ...image.env, PALISADE_BUILD_DEBUG: '1' },
    ...user,
  });
  if (result.error) throw result.error;
  return result;
}

describe('the agent image (Dockerfile)', { timeout: 60_000 }, () => {
  it('answers its default command from the build it ships', () => {
    const help = run();
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: palisade-agent COMMAND');
    const [id] = readdirSync(join(image.root, 'dist/agent')).filter((f) => f !== 'stamp.json');
    expect(help.stderr).toContain(`palisade: agent/main from ${join(image.root, 'dist/agent', id!)}`);
  });

  it('verifies a signed bundle and decides, as its user, writing nothing into the image', () => {
    const evaluate = (pod: string) => run(['evaluate', '--bundle', join(inputs, 'bundle.jws'), '--trust', join(inputs, 'jwks.json'), join(inputs, pod)]);
    const good = evaluate('good.json');
    expect(good.stdout).toMatch(/good\.json\S*\s+Pod\s+shop\s+web\s+allowed/);
    expect(good.status).toBe(0);
    const bad = evaluate('bad.json');
    expect(bad.stdout).toMatch(/bad\.json\S*\s+Pod\s+shop\s+web\s+DENIED/);
    expect(bad.status).toBe(1);
    // The user cannot write the build's directory, so V8's code cache is not kept there, and nothing fails for it.
    if (asRoot && image.user) expect(existsSync(join(image.root, 'dist/.compile-cache'))).toBe(false);
  });

  it('holds the agent and its production dependencies only', () => {
    expect(image.user).toEqual({ uid: 65532, gid: 65532 });
    for (const absent of ['workers', 'test', 'bench', 'node_modules/esbuild', 'node_modules/vitest', 'node_modules/@electric-sql/pglite']) expect(existsSync(join(image.root, absent)), absent).toBe(false);
    for (const present of ['agent-sdk/bin/palisade-agent.mjs', 'node_modules/zod', 'node_modules/@kubernetes/client-node']) expect(existsSync(join(image.root, present)), present).toBe(true);
  });
});
