import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import type { JWKS } from '../src/index.ts';
import { CLUSTER, ISSUER, newKey, OTHER_CLUSTER, sign, tamper, TENANT } from './support/bundles.ts';
import { cli, killStarted, start } from './support/cli.ts';
import { CREDENTIAL, FakeControlPlane, problem, TOKEN } from './support/control-plane.ts';

let key: SigningKey;
let trust: JWKS;
let server: FakeControlPlane;
let dir: string;
let config: string;

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  server = await new FakeControlPlane(trust).start();
  dir = await mkdtemp(join(tmpdir(), 'palisade-agent-cli-'));
  config = join(dir, 'agent', 'config.json');
});
afterAll(async () => {
  killStarted();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('palisade-agent CLI (spawned through npx)', { timeout: 120_000 }, () => {
  it('enroll writes the credential (0600), the trust anchor and the configuration', async () => {
    const refused = await cli('enroll', '--url', server.url, '--token', 'wrong', '--out', join(dir, 'agent'));
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/enrollment: HTTP 401 \(Unauthorized: unknown or used enrollment token\)/);

    const ok = await cli('enroll', '--url', server.url, '--token', TOKEN, '--out', join(dir, 'agent'));
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toContain(`enrolled cluster ${CLUSTER}`);
    expect((await readFile(join(dir, 'agent', 'credential'), 'utf8')).trim()).toBe(CREDENTIAL);
    expect((await stat(join(dir, 'agent', 'credential'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, 'agent', 'jwks.json'), 'utf8'))).toEqual(trust);
    expect(JSON.parse(await readFile(config, 'utf8'))).toEqual({
      url: server.url, clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credentialFile: 'credential', trustFile: 'jwks.json', stateDir: 'state',
    });
  });

  it('bundle pull fetches, verifies, persists and summarizes; refusals exit 1, outages 3', async () => {
    server.serve(await sign(key, { revision: 12 }), '"r12"');
    const pulled = await cli('bundle', 'pull', '--config', config);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain('downloaded and verified');
    expect(pulled.stdout).toMatch(/^revision 12 \(sha256:[a-f0-9]{64}\)$/m);
    for (const line of ['policies: 2 (1 enabled)', 'runtime profiles: 1', 'signature validators: 1', 'images: 2', 'registries: 1', 'file threat protection: on'])
      expect(pulled.stdout).toContain(line);
    expect(await readFile(join(dir, 'agent', 'state', 'bundle.jws'), 'utf8')).toBe(server.bundle!.jws);

    const again = await cli('bundle', 'pull', '--config', config, '--json');
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ revision: 12, policies: 2, fileThreatProtection: true });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"r12"');

    server.serve(tamper.signatureByte(await sign(key, { revision: 13 })), '"r13"');
    const rejected = await cli('bundle', 'pull', '--config', config);
    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toMatch(/bundle rejected \(bad_signature\): .*; keeping revision 12/);

    server.bundleHandler = (_req, res) => problem(res, 503, 'Service Unavailable', 'maintenance');
    const down = await cli('bundle', 'pull', '--config', config);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/download failed \(http_error\): bundle download: HTTP 503 \(Service Unavailable: maintenance\)/);
    server.bundleHandler = null;
  });

  it('bundle verify checks a file offline, with exit codes 0, 1 and 2', async () => {
    const file = join(dir, 'agent', 'state', 'bundle.jws');
    const jwks = join(dir, 'agent', 'jwks.json');
    const ok = await cli('bundle', 'verify', '--trust', jwks, '--issuer', ISSUER, '--tenant', TENANT, '--cluster', CLUSTER, file);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toContain('signature and contents OK');
    expect(ok.stdout).toContain('revision 12');

    const unpinned = await cli('bundle', 'verify', '--trust', jwks, file);
    expect(unpinned.code).toBe(0);
    expect(unpinned.stderr).toContain('warning: issuer, tenantId, clusterId not checked');

    const viaConfig = await cli('bundle', 'verify', '--config', config, file);
    expect(viaConfig).toMatchObject({ code: 0, stderr: '' });

    const otherCluster = await cli('bundle', 'verify', '--trust', jwks, '--cluster', OTHER_CLUSTER, file);
    expect(otherCluster.code).toBe(1);
    expect(otherCluster.stderr).toContain(`${file}: bundle rejected (wrong_cluster)`);

    const tampered = join(dir, 'tampered.jws');
    await writeFile(tampered, tamper.payloadByte(await readFile(file, 'utf8')));
    expect((await cli('bundle', 'verify', '--trust', jwks, tampered)).code).toBe(1);

    const missing = await cli('bundle', 'verify', '--trust', jwks, join(dir, 'nope.jws'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`${join(dir, 'nope.jws')}: no such file`);

    const badTrust = join(dir, 'bad-jwks.json');
    await writeFile(badTrust, JSON.stringify({ keys: [{ ...trust.keys[0], d: 'c2VjcmV0' }] }));
    const refusedTrust = await cli('bundle', 'verify', '--trust', badTrust, file);
    expect(refusedTrust.code).toBe(2);
    expect(refusedTrust.stderr).toContain(`${badTrust}: not a JWKS of public keys: /keys/0/d: a trust anchor holds public keys only`);

    await writeFile(badTrust, '{"keys": [');
    expect((await cli('bundle', 'verify', '--trust', badTrust, file)).stderr).toContain(`${badTrust}: not JSON`);
  });

  it('usage errors exit 2 with a message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no command given/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['bundle', 'verify', '--trust', 'x.json'], /the bundle FILE to verify is missing/],
      [['bundle', 'pull'], /--config is required/],
      [['bundle', 'pull', '--config', join(dir, 'missing.json')], /missing\.json: no such file/],
      [['enroll', '--url', 'ftp://x', '--token', 't', '--out', dir], /--url "ftp:\/\/x" is not an http\(s\) URL/],
      [['bundle', 'pull', '--config', config, '--bogus'], /Unknown option '--bogus'/],
      [['trust', 'refresh'], /--config is required/],
      [['credential', 'renew', '--config', config], /unknown command "credential renew"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(...args)));
    runs.forEach((run, i) => {
      expect(run.code, cases[i]![0].join(' ')).toBe(2);
      expect(run.stderr).toMatch(cases[i]![1]);
    });
  });

  it('run polls, reports status, and stops cleanly on SIGTERM', async () => {
    server.serve(await sign(key, { revision: 14 }), '"r14"');
    const before = server.statuses.length;
    const agent = start(['run', '--config', config]);
    await expect.poll(() => agent.output(), { timeout: 20_000 }).toContain('"event":"activated","revision":14');
    await expect.poll(() => server.statuses.length - before, { timeout: 10_000 }).toBeGreaterThan(0);
    // npx does not forward SIGTERM: signal the agent itself, as Kubernetes would signal the container's main process
    const pid = Number(/"event":"starting","pid":(\d+)/.exec(agent.output())![1]);
    process.kill(pid, 'SIGTERM');
    const run = await agent.done;
    expect(run.stdout).toContain('"event":"restored","revision":12');
    expect(run.stdout).toContain('"event":"stopping","signal":"SIGTERM"');
    expect(run.code).toBe(0);
    expect(server.statuses.at(-1)).toMatchObject({ activeRevision: 14, lastError: null, counters: { activations: 2 } });
  });
});
