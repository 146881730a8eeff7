import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { harness, type TenantClient } from '../../test/support/harness.ts';
import { testPglite } from '../../test/support/pglite.ts';
import { enrolledCluster } from '../../test/support/agent.ts';
import { scanBytes } from '../src/scanner/scan.ts';
import { DEFAULT_SCAN_OPTIONS } from '../src/scanner/types.ts';
import {
  BundleClient,
  FileSignatureSetStore,
  MemoryBundleStore,
  SIGNATURE_FILES,
  SignatureSetClient,
  StatusReporter,
  verifySignatureSet,
  type SignatureIndex,
  type SignatureSetClientOptions,
} from '../src/node.ts';
import { writeEnrollment } from '../src/node/agent-files.ts';
import { cli } from './support/cli.ts';
import type { SignatureSource } from '../src/file-threat/signatures.ts';
import { serveApp, type LiveApp } from './support/live-app.ts';

// The agent's signature set client against the real control plane (the Hono app on PGlite, over local HTTP).
const database = await testPglite();
const h = harness(database);
let live: LiveApp;
let acme: TenantClient;
let agent: Awaited<ReturnType<typeof enrolledCluster>>;
let dir: string;
const DOWN = 'http://127.0.0.1:9'; // nothing listens: the control plane is down
const MARKER = Buffer.from('....\x0b\xad\xf0\x0d\xca\xfe....', 'latin1');

beforeAll(async () => {
  live = await serveApp(h);
  acme = await h.tenant('acme');
  agent = await enrolledCluster(h, acme, 'prod-eu');
  const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
  await acme.json('POST', '/v1/runtime-policies', { name: 'ftp', mode: 'enforce', scopeIds: [scope.body.id], fileThreatProtection: { enabled: true } });
  await acme.json('POST', '/v1/file-signature-sets', { name: 'ours', format: 'ndb', content: 'Test.Marker:0:*:0badf00dcafe\n' });
});
afterAll(async () => {
  await live.close();
  await database.close();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-signatures-'));
  return () => rm(dir, { recursive: true, force: true });
});

const settings = () => ({ credential: agent.credential, issuer: agent.issuer, tenantId: agent.tenantId, trust: agent.jwks as never });
const bundles = () => new BundleClient({ ...settings(), url: live.url, clusterId: agent.clusterId, store: new MemoryBundleStore() });
const signatures = (extra: Partial<SignatureSetClientOptions> = {}) => new SignatureSetClient({ ...settings(), url: live.url, store: new FileSignatureSetStore(dir), ...extra });
async function activeBundle() {
  const client = bundles();
  expect((await client.pollOnce()).outcome).toBe('activated');
  return client.active!;
}
const found = async (index: SignatureIndex | undefined, bytes: Uint8Array) => (await scanBytes(index!, DEFAULT_SCAN_OPTIONS, bytes, 'f')).verdict;
const EICAR = Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');

/** A fetch through which every signature set arrives with one byte of its JWS payload changed. */
const tampering: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  if (res.status !== 200 || !String(input).includes('/file-signatures')) return res;
  const jws = await res.text();
  const [header, payload, signature] = jws.split('.') as [string, string, string];
  const bytes = Buffer.from(payload, 'base64url');
  const at = bytes.indexOf('0badf00dcafe');
  bytes[at] = 'f'.charCodeAt(0); // "fbadf00dcafe": a different signature, same length
  return new Response(`${header}.${bytes.toString('base64url')}.${signature}`, { status: 200, headers: { etag: res.headers.get('etag')! } });
};

describe('SignatureSetClient', () => {
  it('fetches the set the bundle names, verifies it, builds the index and keeps it on disk', async () => {
    const bundle = await activeBundle();
    const named = bundle.content.fileSignatures!;
    const client = signatures();
    const seen: number[] = [];
    client.subscribe((_index, set) => seen.push(set.version));
    expect(client.current()).toBeUndefined();

    const result = await client.syncWith(bundle);
    expect(result).toMatchObject({ outcome: 'activated', set: { version: named.version, digest: named.digest } });
    expect(seen).toEqual([named.version]);
    expect(await found(client.current(), MARKER)).toMatchObject({ verdict: 'infected', name: 'Test.Marker' });
    expect(await found(client.current(), EICAR)).toMatchObject({ verdict: 'infected', name: 'Eicar-Test-Signature' });
    expect(client.current()!.count).toBe(named.signatureCount);
    expect((await readdir(dir)).sort()).toEqual([SIGNATURE_FILES.jws, SIGNATURE_FILES.meta].sort());
    expect((await stat(join(dir, SIGNATURE_FILES.jws))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, SIGNATURE_FILES.meta), 'utf8'))).toMatchObject({ version: named.version, digest: named.digest });

    // Named and held: no request at all.
    const requests = live.paths.length;
    expect(await client.syncWith(bundle)).toEqual({ outcome: 'current' });
    expect(live.paths.length).toBe(requests);
    expect(client.status()).toMatchObject({ activeVersion: named.version, namedVersion: named.version, lastError: null, counters: { downloads: 1, activations: 1 } });
  });

  it('follows a change: a new set, a new bundle revision, the new set current (and so for the node scanner source)', async () => {
    const client = signatures();
    const source: SignatureSource = client.scanSource(); // the node's File Threat Protection takes it as is
    const published: string[] = [];
    source.subscribe((set) => published.push(set.version));
    expect(source.current()).toBeUndefined();
    await client.syncWith(await activeBundle());
    const before = client.active!;
    expect(source.current()!.version).toBe(`${before.version}.${before.digest.slice(7, 23)}`);
    expect(source.current()!.signatures.map((s) => s.name)).toEqual(before.document.signatures.slice(1).map((s) => s.name)); // EICAR: the scanner's own
    expect(source.current()).toBe(source.current());
    const first = source.current()!.version;
    await acme.json('POST', '/v1/file-signature-sets', { name: 'weekly', format: 'hsb', content: `${'9'.repeat(64)}:*:Test.Weekly\n` });
    const bundle = await activeBundle();
    expect(bundle.content.fileSignatures!.version).toBe(before.version + 1);
    expect((await client.syncWith(bundle)).outcome).toBe('activated');
    expect(client.active!.document.signatures.map((s) => s.name)).toContain('Test.Weekly');
    expect(published).toEqual([first, source.current()!.version]);
    expect(source.current()!.version).not.toBe(first);
    expect(source.current()!.signatures.map((s) => s.name)).toContain('Test.Weekly');
  });

  it('refuses a tampered set (one byte changed) and keeps the previous one', async () => {
    const bundle = await activeBundle();
    const fresh = signatures({ fetch: tampering });
    expect(await fresh.syncWith(bundle)).toMatchObject({ outcome: 'rejected', error: { code: 'bad_signature' } });
    expect(fresh.current()).toBeUndefined();
    expect(await readdir(dir)).toEqual([]); // nothing refused is persisted

    const good = signatures();
    await good.syncWith(bundle);
    const held = good.active!;
    await acme.json('POST', '/v1/file-signature-sets', { name: 'tamper-target', format: 'hdb', content: `${'7'.repeat(32)}:3:Test.Tamper\n` });
    const next = await activeBundle();
    const tampered = signatures({ fetch: tampering });
    await tampered.restore();
    expect(tampered.active!.digest).toBe(held.digest);
    expect(await tampered.syncWith(next)).toMatchObject({ outcome: 'rejected', error: { code: 'bad_signature' } });
    expect(tampered.active!.digest).toBe(held.digest);
    expect(await found(tampered.current(), MARKER)).toMatchObject({ verdict: 'infected' });
    expect(tampered.status()).toMatchObject({ activeVersion: held.version, namedVersion: next.content.fileSignatures!.version, lastError: { code: 'bad_signature' } });
    expect(JSON.parse(await readFile(join(dir, SIGNATURE_FILES.meta), 'utf8')).digest).toBe(held.digest);

    // Reported to the control plane with the bundle status: people see which set a cluster scans with, and why not the named one.
    const bundleClient = bundles();
    await bundleClient.pollOnce();
    await new StatusReporter({ url: live.url, credential: agent.credential, source: () => ({ ...bundleClient.status(), fileSignatures: tampered.status() }) }).reportOnce();
    const seen = await acme.json('GET', `/v1/clusters/${agent.clusterId}/status`);
    expect(seen.body.fileSignatures).toMatchObject({ activeVersion: held.version, namedVersion: next.content.fileSignatures!.version, lastError: { code: 'bad_signature' }, counters: { rejections: 1 } });
  });

  it('refuses a set that is not the one the bundle names, and keeps the previous one', async () => {
    const bundle = await activeBundle();
    const client = signatures();
    await client.syncWith(bundle);
    const held = client.active!;
    const named = bundle.content.fileSignatures!;
    // A bundle naming another digest (as a control plane serving mismatched documents would).
    const other = { version: named.version + 1, digest: `sha256:${'0'.repeat(64)}` };
    expect(await client.sync(other)).toMatchObject({ outcome: 'rejected', error: { code: 'digest_mismatch' } });
    expect(client.active).toBe(held);
    // The control plane moved on while the agent's bundle is the old one: the served set is newer than the bundle names.
    await acme.json('POST', '/v1/file-signature-sets', { name: 'race', format: 'hdb', content: `${'5'.repeat(32)}:3:Test.Race\n` });
    const behind = signatures({ store: undefined });
    expect(await behind.sync({ version: named.version - 1, digest: `sha256:${'1'.repeat(64)}` })).toMatchObject({ outcome: 'rejected', error: { code: 'digest_mismatch' } });
    expect(behind.current()).toBeUndefined();
  });

  it("refuses another tenant's set: the set is bound to the tenant that signed it", async () => {
    const globex = await h.tenant('globex');
    const globexAgent = await enrolledCluster(h, globex, 'prod-us');
    const theirs = signatures({ credential: globexAgent.credential, store: undefined });
    expect(await theirs.sync({ version: 1, digest: `sha256:${'2'.repeat(64)}` })).toMatchObject({ outcome: 'rejected', error: { code: 'wrong_tenant' } });
  });

  it('after a restart with the control plane down, scans with the last good set from disk', async () => {
    const bundle = await activeBundle();
    await signatures().syncWith(bundle);
    const restarted = signatures({ url: DOWN, timeoutMs: 2000 });
    const restored = await restarted.restore();
    expect(restored?.digest).toBe(bundle.content.fileSignatures!.digest);
    expect(await found(restarted.current(), MARKER)).toMatchObject({ verdict: 'infected', name: 'Test.Marker' });
    expect(await restarted.syncWith(bundle)).toEqual({ outcome: 'current' });
    // A newer bundle naming a set it cannot fetch: the stored set stays current, the error is reported.
    const failed = await restarted.sync({ version: restored!.version + 1, digest: `sha256:${'3'.repeat(64)}` });
    expect(failed).toMatchObject({ outcome: 'failed', error: { code: 'network' } });
    expect(restarted.active!.digest).toBe(restored!.digest);
    expect(restarted.status().lastError).toMatchObject({ code: 'network' });
  });

  it('does not load a stored set that was changed on disk, nor one signed by a key it does not trust', async () => {
    await signatures().syncWith(await activeBundle());
    const path = join(dir, SIGNATURE_FILES.jws);
    const jws = await readFile(path, 'utf8');
    await writeFile(path, jws.slice(0, 100) + (jws[100] === 'A' ? 'B' : 'A') + jws.slice(101));
    const restarted = signatures({ url: DOWN });
    expect(await restarted.restore()).toBeNull();
    expect(restarted.current()).toBeUndefined();
    expect(restarted.status().lastError?.message).toMatch(/^stored signature set not used/);

    await expect(verifySignatureSet(jws, { ...settings(), trust: { keys: [] }, now: new Date() })).rejects.toMatchObject({ code: 'unknown_key' });
    // A bundle is not a signature set, though signed by the same key.
    const bundleJws = (await activeBundle()).jws;
    await expect(verifySignatureSet(bundleJws, { ...settings(), now: new Date() })).rejects.toMatchObject({ code: 'malformed' });
  });

  it('palisade-agent scan --signatures-from uses the stored set once it verifies, and refuses it changed', { timeout: 120_000 }, async () => {
    await signatures().syncWith(await activeBundle());
    const etc = await mkdtemp(join(tmpdir(), 'palisade-etc-'));
    try {
      const config = await writeEnrollment(etc, live.url, { clusterId: agent.clusterId, tenantId: agent.tenantId, issuer: agent.issuer, credential: agent.credential, jwks: agent.jwks as never });
      await writeFile(join(etc, 'marked.bin'), MARKER);
      const run = await cli('scan', '--signatures-from', dir, '--config', config, join(etc, 'marked.bin'));
      expect(run.stdout).toContain(`${join(etc, 'marked.bin')}: Test.Marker FOUND`);
      expect(run.code).toBe(1);
      const path = join(dir, SIGNATURE_FILES.jws);
      const jws = await readFile(path, 'utf8');
      await writeFile(path, jws.slice(0, 100) + (jws[100] === 'A' ? 'B' : 'A') + jws.slice(101));
      const refused = await cli('scan', '--signatures-from', dir, '--config', config, join(etc, 'marked.bin'));
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/signature set refused \((bad_signature|malformed)\)/);
      expect((await cli('scan', '--signatures-from', dir, join(etc, 'marked.bin'))).stderr).toMatch(/needs --config/);
    } finally {
      await rm(etc, { recursive: true, force: true });
    }
  });
});
