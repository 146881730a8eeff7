import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, type KeyRing } from '../../workers/bundles/signing-keys.ts';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { harness, TEST_ISSUER, type TenantClient } from '../../test/support/harness.ts';
import { testPglite } from '../../test/support/pglite.ts';
import { agentClient } from '../src/cli/agent-client.ts';
import { BundleClient, enroll, loadAgentFiles, MemoryBundleStore, verifyBundle, type JWKS } from '../src/node.ts';
import { cli, killStarted } from './support/cli.ts';
import { serveApp, type LiveApp } from './support/live-app.ts';

// Key rotation end to end: the real control-plane app (PGlite) on a local port, restarted with each step's key ring,
// and agents (in process and `palisade-agent` processes) following it.
const database = await testPglite();
let skew = 0;
/** The app as restarted with `keys`, its clock a few seconds further on (so that a re-signing gets a new ETag). */
function restartedWith(keys: KeyRing, laterMs = 5000) {
  const ahead = (skew += laterMs);
  return harness(database, { signing: { issuer: TEST_ISSUER, keys }, now: () => new Date(Date.now() + ahead) });
}
let a: SigningKey, b: SigningKey;
let live: LiveApp;
let acme: TenantClient;
let dir: string;
let config: string;
const kids = (jwks: JWKS) => jwks.keys.map((k) => k.kid);
const jwksRequests = () => live.paths.filter((p) => p === '/.well-known/jwks.json').length;

async function cluster(name: string): Promise<string> {
  const id = (await acme.json('POST', '/v1/clusters', { name })).body.id as string;
  return (await acme.json('POST', `/v1/clusters/${id}/enrollment-tokens`, {})).body.token as string;
}

beforeAll(async () => {
  [a, b] = (await Promise.all([generateSigningKey(), generateSigningKey()])).map((k) => k.key) as [SigningKey, SigningKey];
  const first = restartedWith({ current: a, previous: [] });
  live = await serveApp(first);
  acme = await first.tenant('acme');
  const scope = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope] });
  dir = await mkdtemp(join(tmpdir(), 'palisade-agent-rotation-'));
  config = join(dir, 'config.json');
  expect((await cli('enroll', '--url', live.url, '--token', await cluster('prod-eu'), '--out', dir)).code).toBe(0);
});
afterAll(async () => {
  killStarted();
  await live.close();
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

describe('signing key rotation, agent side', { timeout: 120_000 }, () => {
  it('publish next, switch, retire: agents follow, old bundles verify during the overlap', async () => {
    const one = agentClient(await loadAgentFiles(config)); // an agent over its files, like `palisade-agent run`
    expect(await one.pollOnce()).toMatchObject({ outcome: 'activated', bundle: { kid: a.kid } });
    const { jws: aSigned, revision } = one.active!;
    const e2 = await enroll({ url: live.url, token: await cluster('prod-us') }); // an agent that will not refresh in time
    const two = new BundleClient({ url: live.url, ...e2, trust: e2.jwks, store: new MemoryBundleStore() });
    expect(await two.pollOnce()).toMatchObject({ outcome: 'activated', bundle: { kid: a.kid } });

    // 1. publish B ahead of the switch: a refresh (the CLI here, or the agent's hourly one) sees both keys
    live.use(restartedWith({ current: a, previous: [], next: [b] }));
    const refreshed = await cli('trust', 'refresh', '--config', config);
    expect(refreshed).toMatchObject({ code: 0, stderr: '' });
    expect(refreshed.stdout).toContain(`added: ${b.kid}`);
    expect(kids(JSON.parse(await readFile(join(dir, 'jwks.json'), 'utf8')))).toEqual([a.kid, b.kid]);
    expect(await one.refreshTrust()).toMatchObject({ changed: true, keys: [a.kid, b.kid] });
    expect((await one.pollOnce()).outcome).not.toMatch(/rejected|failed/); // (re-signed after the new cluster, or not)
    expect(one.active!.kid).toBe(a.kid); // nothing is signed with B yet

    // 2. switch to B, A still published: the next poll gets a B-signed bundle (same revision, re-signed)
    live.use(restartedWith({ current: b, previous: [a] }));
    const seen = jwksRequests();
    expect(await one.pollOnce()).toMatchObject({ outcome: 'activated', bundle: { kid: b.kid, revision } });
    expect(jwksRequests()).toBe(seen); // it knew B already
    expect(await two.pollOnce()).toMatchObject({ outcome: 'activated', bundle: { kid: b.kid, revision } });
    expect(jwksRequests()).toBe(seen + 1); // refreshed on unknown_key, then verified again
    expect(kids(two.trustAnchor)).toEqual([b.kid, a.kid]);
    const checks = { issuer: TEST_ISSUER, tenantId: acme.id, clusterId: one.active!.clusterId, maxBytes: 1e6, now: new Date() };
    expect(await verifyBundle(aSigned, { ...checks, trust: one.trustAnchor })).toMatchObject({ kid: a.kid, revision }); // the overlap
    const restarted = agentClient(await loadAgentFiles(config)); // the stored B-signed bundle, with the stored anchor
    expect(await restarted.restore()).toMatchObject({ kid: b.kid, revision });

    // 3. retire A: now that a B-signed bundle is active and stored, A may leave the anchor
    live.use(restartedWith({ current: b, previous: [] }));
    expect(await one.refreshTrust()).toEqual({ changed: true, keys: [b.kid], added: [], removed: [a.kid], kept: [] });
    await expect(verifyBundle(aSigned, { ...checks, trust: one.trustAnchor })).rejects.toMatchObject({ code: 'unknown_key' });
  });

  it('credential rotate replaces the credential file; the old credential works for the overlap only', async () => {
    const credentialFile = join(dir, 'credential');
    const old = (await readFile(credentialFile, 'utf8')).trim();
    const run = await cli('credential', 'rotate', '--config', config);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/the previous credential works until \d{4}-\d\d-\d\dT/);
    const fresh = (await readFile(credentialFile, 'utf8')).trim();
    expect(fresh).not.toBe(old);
    expect((await stat(credentialFile)).mode & 0o777).toBe(0o600);
    const files = await loadAgentFiles(config);
    expect(files.credential).toBe(fresh);
    expect((await agentClient(files).pollOnce()).outcome).toBe('activated');
    expect((await agentClient({ ...files, credential: old }).pollOnce()).outcome).toBe('activated');
    const clusterId = files.config.clusterId;
    const listed = (await acme.json('GET', `/v1/clusters/${clusterId}/credentials`)).body.items as Array<{ expiresAt: string | null }>;
    expect(listed.map((c) => c.expiresAt === null).sort()).toEqual([false, true]);
    live.use(restartedWith({ current: b, previous: [] }, 601_000)); // past the overlap (600 s)
    expect(await agentClient({ ...files, credential: old }).pollOnce()).toMatchObject({ outcome: 'failed', error: { code: 'unauthorized' } });
    expect((await agentClient(files).pollOnce()).outcome).toBe('activated');

    const refused = await cli('credential', 'rotate', '--config', join(dir, 'missing.json'));
    expect(refused.code).toBe(2);
  });
});
