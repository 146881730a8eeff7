import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { cli, killStarted, start } from './support/cli.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';
import { badPod, goodPod, postReview, review, selfSigned, webhookBundle } from './support/webhook.ts';

let server: FakeControlPlane;
let dir: string;
let ca: string;
let config: string;

beforeAll(async () => {
  const { key, jwks } = await newKey();
  server = await new FakeControlPlane(jwks).start();
  dir = await mkdtemp(join(tmpdir(), 'palisade-run-logs-'));
  const pair = await selfSigned();
  ca = pair.cert;
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
  await writeFile(join(dir, 'credential'), CREDENTIAL + '\n');
  await writeFile(join(dir, 'jwks.json'), JSON.stringify(jwks));
  const content = await webhookBundle();
  server.serve(await sign(key, { revision: 31, content: { ...content, tenantId: TENANT, cluster: { ...content.cluster, id: CLUSTER } } }), '"r31"');
  config = join(dir, 'config.json');
  await writeFile(config, JSON.stringify({
    url: server.url, clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credentialFile: 'credential', trustFile: 'jwks.json', stateDir: 'state',
    webhook: { listen: '127.0.0.1', port: 0, certFile: 'tls.crt', keyFile: 'tls.key', allowUnauthenticated: true },
    audit: { batchMaxWaitMs: 0 },
  }));
});
afterAll(async () => {
  killStarted();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const lines = (stdout: string) => stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('palisade-agent logs (spawned)', { timeout: 120_000 }, () => {
  it('bundle pull says where it saved the bundle', async () => {
    const pulled = await cli('bundle', 'pull', '--config', config);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain(`downloaded and verified; saved to ${join(dir, 'state', 'bundle.jws')}\n`);
    const again = await cli('bundle', 'pull', '--config', config, '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ revision: 31, file: join(dir, 'state', 'bundle.jws') });
  });

  it('run logs each admission decision and each audit shipment at info, one JSON line each, without secrets', async () => {
    const agent = start(['run', '--config', config]);
    await expect.poll(() => agent.output(), { timeout: 30_000 }).toContain('"event":"webhook_listening"');
    const port = Number(/"event":"webhook_listening","address":"127.0.0.1","port":(\d+)/.exec(agent.output())![1]);
    const url = `https://127.0.0.1:${port}`;
    expect((await postReview(url, ca, review(badPod('miner'), { uid: 'uid-denied' }))).json().response.allowed).toBe(false);
    expect((await postReview(url, ca, review(goodPod('web'), { uid: 'uid-allowed', dryRun: true }))).json().response.allowed).toBe(true);
    await expect.poll(() => server.events.length, { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => agent.output(), { timeout: 30_000 }).toContain('"event":"audit_shipped"');

    const pid = Number(/"event":"starting","pid":(\d+)/.exec(agent.output())![1]);
    process.kill(pid, 'SIGTERM');
    const run = await agent.done;
    expect(run.code).toBe(0);
    const logged = lines(run.stdout);
    for (const entry of logged) expect(entry).toMatchObject({ time: expect.any(String), level: expect.stringMatching(/^(info|warn)$/), event: expect.any(String) });
    expect(logged.filter((e) => e.event === 'admission')).toEqual([
      expect.objectContaining({
        level: 'info', uid: 'uid-denied', operation: 'CREATE', kind: 'Pod', namespace: 'shop', name: 'miner', allowed: false, reason: 'policy',
        bundleRevision: 31, findings: expect.any(Number), deniedBy: ['baseline'],
      }),
      expect.objectContaining({ level: 'info', uid: 'uid-allowed', name: 'web', allowed: true, dryRun: true }),
    ]);
    const shipped = logged.filter((e) => e.event === 'audit_shipped');
    expect(shipped.length).toBeGreaterThan(0);
    expect(shipped[0]).toMatchObject({ level: 'info', events: expect.any(Number), accepted: expect.any(Number), duplicates: 0 });
    expect(shipped.reduce((n, e) => n + (e.accepted as number), 0)).toBe(server.events.length);
    // The credential and the pod specs stay out of the log.
    expect(run.stdout).not.toContain(CREDENTIAL);
    expect(run.stdout).not.toContain('quay.io/evil/miner');
  });
});
