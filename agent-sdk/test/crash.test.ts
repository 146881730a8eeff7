import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { STATE_FILES, verifyBundle, writeEnrollment, type JWKS } from '../src/node.ts';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { killHard, killStarted, start } from './support/cli.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';

// `palisade-agent run` as a real process, SIGKILLed at the worst moments of taking a new bundle.
let key: SigningKey;
let trust: JWKS;
let server: FakeControlPlane;
let dir: string;
let config: string;
const bundles: Record<number, { jws: string; digest: string }> = {};

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  server = await new FakeControlPlane(trust).start();
  dir = await mkdtemp(join(tmpdir(), 'palisade-agent-crash-'));
  config = await writeEnrollment(join(dir, 'agent'), server.url, { clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credential: CREDENTIAL, jwks: trust });
  for (const revision of [1, 2, 3]) {
    const jws = await sign(key, { revision });
    bundles[revision] = { jws, digest: (await verifyBundle(jws, { trust, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, maxBytes: 1e6, now: new Date() })).digest };
  }
});
afterAll(async () => {
  killStarted();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const stateDir = () => join(dir, 'agent', 'state');
const stored = async () => ({ jws: await readFile(join(stateDir(), STATE_FILES.jws), 'utf8'), meta: JSON.parse(await readFile(join(stateDir(), STATE_FILES.meta), 'utf8')) });
const event = (name: string, revision: number) => `"event":"${name}","revision":${revision},"digest":"${bundles[revision]!.digest}"`;

/** Runs the agent until it has activated `revision`, then stops it with SIGTERM; returns its log. */
async function runUntilActive(revision: number): Promise<string> {
  const agent = start(['run', '--config', config]);
  await expect.poll(() => agent.output(), { timeout: 20_000 }).toContain(event('activated', revision));
  process.kill(Number(/"event":"starting","pid":(\d+)/.exec(agent.output())![1]), 'SIGTERM');
  return (await agent.done).stdout;
}

describe('palisade-agent killed while taking a new bundle', { timeout: 120_000 }, () => {
  it('comes back on the old bundle when killed between download and activation, then converges', async () => {
    server.serve(bundles[1]!.jws, '"r1"');
    await runUntilActive(1);

    server.serve(bundles[2]!.jws, '"r2"');
    const marker = join(dir, 'before-activate.json');
    const agent = start(['run', '--config', config], { PALISADE_AGENT_TEST_PAUSE_BEFORE_ACTIVATE: marker });
    await expect.poll(() => existsSync(marker), { timeout: 20_000 }).toBe(true);
    expect(JSON.parse(await readFile(marker, 'utf8'))).toMatchObject({ at: 'before_activate', revision: 2, digest: bundles[2]!.digest });
    killHard(agent.child);
    expect((await agent.done).stdout).not.toContain('"event":"activated"');
    expect(await stored()).toMatchObject({ jws: bundles[1]!.jws, meta: { revision: 1, digest: bundles[1]!.digest, etag: '"r1"' } });

    const log = await runUntilActive(2);
    expect(log).toContain(event('restored', 1));
    expect(log.indexOf(event('restored', 1))).toBeLessThan(log.indexOf(event('activated', 2)));
    expect(await stored()).toMatchObject({ jws: bundles[2]!.jws, meta: { revision: 2 } });
  });

  it('keeps the old stored bundle intact when killed in the middle of writing the new one', async () => {
    server.serve(bundles[3]!.jws, '"r3"');
    const marker = join(dir, 'before-rename.json');
    const agent = start(['run', '--config', config], { PALISADE_AGENT_TEST_PAUSE_BEFORE_RENAME: marker });
    await expect.poll(() => existsSync(marker), { timeout: 20_000 }).toBe(true);
    const paused = JSON.parse(await readFile(marker, 'utf8')) as { tmp: string };
    killHard(agent.child);
    await agent.done;
    expect(await readFile(paused.tmp, 'utf8')).toBe(bundles[3]!.jws); // the new bundle was complete, only not renamed
    expect(await stored()).toMatchObject({ jws: bundles[2]!.jws, meta: { revision: 2, digest: bundles[2]!.digest } });

    const log = await runUntilActive(3);
    expect(log).toContain(event('restored', 2));
    expect(await stored()).toMatchObject({ jws: bundles[3]!.jws, meta: { revision: 3 } });
    expect((await readdir(stateDir())).filter((f) => f.endsWith('.tmp'))).toEqual([]); // the leftover is cleaned up
  });
});
