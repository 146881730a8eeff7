import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { BundleClient, FileBundleStore, STATE_FILES, writeFileAtomic, type BundleClientOptions, type JWKS } from '../src/node.ts';
import { CLUSTER, ISSUER, newKey, nowSeconds, sign, tamper, TENANT } from './support/bundles.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';

let key: SigningKey;
let trust: JWKS;
let server: FakeControlPlane;
let dir: string;
const DOWN = 'http://127.0.0.1:9'; // nothing listens: the control plane is down

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  server = await new FakeControlPlane(trust).start();
});
afterAll(() => server.close());
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-agent-state-'));
  return () => rm(dir, { recursive: true, force: true });
});

const client = (extra: Partial<BundleClientOptions> = {}) =>
  new BundleClient({ url: server.url, credential: CREDENTIAL, trust, issuer: ISSUER, tenantId: TENANT, clusterId: CLUSTER, store: new FileBundleStore(dir), downloadTimeoutMs: 2000, ...extra });

describe('FileBundleStore', () => {
  it('a new client over the same state dir starts on the stored bundle, with the control plane down', async () => {
    server.serve(await sign(key, { revision: 3 }), '"r3"');
    expect((await client().pollOnce()).outcome).toBe('activated');
    expect((await readdir(dir)).sort()).toEqual([STATE_FILES.meta, STATE_FILES.jws].sort()); // no temporary files left
    expect((await stat(join(dir, STATE_FILES.jws))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(dir, STATE_FILES.meta), 'utf8'))).toMatchObject({ etag: '"r3"', revision: 3 });

    const restarted = client({ url: DOWN });
    expect((await restarted.restore())?.revision).toBe(3);
    expect((await restarted.pollOnce()).outcome).toBe('failed');
    expect(restarted.status()).toMatchObject({ activeRevision: 3, lastError: { code: 'network' } });

    // once the control plane is back, the stored ETag gives a 304
    const back = client();
    await back.restore();
    expect(await back.pollOnce()).toEqual({ outcome: 'not_modified' });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBe('"r3"');
  });

  it('loads an expired stored bundle as last known good, flagged, until a fresh one arrives', async () => {
    const expired = await sign(key, { revision: 4, issuedAt: nowSeconds() - 7200, ttlSeconds: 3600 });
    await new FileBundleStore(dir).save({ jws: expired, etag: '"r4"', revision: 4, digest: 'sha256:x' });
    const c = client({ url: DOWN });
    const restored = await c.restore();
    expect(restored).toMatchObject({ revision: 4, expired: true });
    expect(c.status()).toMatchObject({ activeRevision: 4, lastError: { code: 'expired', message: expect.stringContaining('last known good') } });
    // the network never gets the same leniency
    server.serve(expired, '"r4-again"');
    const online = client();
    await online.restore();
    expect(await online.pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'expired' } });
    server.serve(await sign(key, { revision: 5 }), '"r5"');
    expect((await online.pollOnce()).outcome).toBe('activated');
    expect(online.status()).toMatchObject({ activeRevision: 5, lastError: null });
  });

  it('re-verifies on load: a tampered file is not used and its ETag not sent', async () => {
    await new FileBundleStore(dir).save({ jws: tamper.payloadByte(await sign(key, { revision: 6 })), etag: '"r6"', revision: 6, digest: 'sha256:x' });
    const c = client();
    expect(await c.restore()).toBeNull();
    expect(c.status()).toMatchObject({ activeRevision: null, lastError: { code: 'bad_signature', message: expect.stringContaining('stored bundle not used') } });
    server.serve(await sign(key, { revision: 2 }), '"r2"');
    expect((await c.pollOnce()).outcome).toBe('activated');
    expect(server.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
  });

  it('keeps rollback protection across restarts, and drops an ETag whose metadata does not match', async () => {
    const r7 = await sign(key, { revision: 7 });
    await new FileBundleStore(dir).save({ jws: r7, etag: '"stale"', revision: 6, digest: 'sha256:of-something-else' });
    const c = client();
    expect((await c.restore())?.revision).toBe(7);
    server.serve(await sign(key, { revision: 6 }), '"r6"');
    expect(await c.pollOnce()).toMatchObject({ outcome: 'rejected', error: { code: 'revision_rollback' } });
    expect(server.requests.at(-1)!.headers['if-none-match']).toBeUndefined();
    expect(c.active?.revision).toBe(7);
  });

  it('survives missing or corrupt metadata (the JWS alone is enough)', async () => {
    await writeFile(join(dir, STATE_FILES.jws), await sign(key, { revision: 8 }));
    await writeFile(join(dir, STATE_FILES.meta), '{not json');
    expect((await client({ url: DOWN }).restore())?.revision).toBe(8);
    await rm(join(dir, STATE_FILES.meta));
    expect((await client({ url: DOWN }).restore())?.revision).toBe(8);
    expect(await new FileBundleStore(join(dir, 'nothing-here')).load()).toBeNull();
  });

  it('records a failed save but still enforces the verified bundle', async () => {
    server.serve(await sign(key, { revision: 9 }), '"r9"');
    await writeFile(join(dir, 'not-a-dir'), '');
    const c = client({ store: new FileBundleStore(join(dir, 'not-a-dir')) });
    expect((await c.pollOnce()).outcome).toBe('activated');
    expect(c.status()).toMatchObject({ activeRevision: 9, lastError: { code: 'persist_failed' } });
  });
});

describe('writeFileAtomic', () => {
  it('replaces the file whole, with the mode asked for, leaving no temporary files', async () => {
    const file = join(dir, 'sub', 'credential');
    await writeFileAtomic(file, 'one', 0o600);
    await writeFileAtomic(file, 'two', 0o600);
    expect(await readFile(file, 'utf8')).toBe('two');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'sub'))).toEqual(['credential']);
    await expect(writeFileAtomic(join(dir, 'sub', 'credential', 'x'), 'y')).rejects.toThrow();
    expect(await readdir(join(dir, 'sub'))).toEqual(['credential']);
  });
});
