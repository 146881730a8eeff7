import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookConfig } from '../../src/config.ts';
import { parseDockerConfig } from '../../src/oci/auth.ts';
import { OciClient } from '../../src/oci/client.ts';
import { verifierFromConfig } from '../../src/signatures/from-config.ts';
import { signatureStage } from '../../src/signatures/stage.ts';
import { SignatureVerifier } from '../../src/signatures/verifier.ts';
import { WebhookServer } from '../../src/webhook/server.ts';
import { freePort, hasRegistry, Pusher, pushImage, signLegacy, startRegistry, type LocalRegistry } from '../support/oci-registry.ts';
import { decide, podWith, signatureBundle } from '../support/signature-bundle.ts';
import { postReview, review, selfSigned } from '../support/webhook.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const publicKey = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const bundleFor = (host: string, onRegistryError?: 'deny' | 'warn') =>
  signatureBundle({ rules: [{ template: `${host}/**`, verify: true, validator: 'release' }], validators: { release: { verification: { method: 'publicKey', publicKey }, ...(onRegistryError ? { onRegistryError } : {}) } } });

describe('registry failures follow the stated failure policy', () => {
  let hang: Server;
  let hangHost: string;
  beforeAll(async () => {
    // Accepts connections and never answers: a registry slower than any deadline.
    hang = createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', () => r()));
    hangHost = `127.0.0.1:${(hang.address() as { port: number }).port}`;
  });
  afterAll(() => {
    hang.closeAllConnections();
    return new Promise<void>((r) => hang.close(() => r()));
  });

  it('denies in Enforce mode when the registry is down (default), admits with a warning under onRegistryError: warn', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const v = new SignatureVerifier({ client: new OciClient({ plainHttp: [down] }) });
    const denied = await decide(await bundleFor(down), v, `${down}/acme/web:v1`);
    expect(denied.allowed).toBe(false);
    expect(denied.findings[0]!.message).toContain('registry unreachable');
    const warned = await decide(await bundleFor(down, 'warn'), v, `${down}/acme/web:v1`);
    expect(warned.allowed).toBe(true);
    expect(warned.findings[0]).toMatchObject({ mode: 'audit', check: 'imageContentProtection' });
    expect(warned.findings[0]!.message).toContain('admitted (onRegistryError: warn)');
  });

  it('answers deadlineExceeded when the registry is slower than the deadline, and the webhook still answers in time', async () => {
    const v = new SignatureVerifier({ client: new OciClient({ plainHttp: [hangHost] }), verificationTimeoutMs: 60_000 });
    const b = await bundleFor(hangHost);
    const facts = await v.facts([{ image: `${hangHost}/acme/web@sha256:${'1'.repeat(64)}`, validator: b.signatureValidators[0]! }], 200);
    expect([...facts.values()][0]).toMatchObject({ status: 'failed', reason: 'deadlineExceeded' });

    const dir = await mkdtemp(join(tmpdir(), 'palisade-sigwh-'));
    const pair = await selfSigned();
    await writeFile(join(dir, 'tls.crt'), pair.cert);
    await writeFile(join(dir, 'tls.key'), pair.key);
    const config = WebhookConfig.parse({ listen: '127.0.0.1', port: 0, allowUnauthenticated: true, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), requestDeadlineMs: 1000 });
    const served = { content: b, revision: 3, issuedAt: new Date(), expiresAt: new Date(Date.now() + 3600_000) };
    const server = await WebhookServer.create(config, { bundle: () => served, signatures: signatureStage(v) });
    const { port } = await server.listen();
    try {
      const started = Date.now();
      const reply = await postReview(`https://127.0.0.1:${port}`, pair.cert, review(podWith(`${hangHost}/acme/web:v1`)));
      const elapsed = Date.now() - started;
      const response = reply.json().response;
      expect(response.allowed).toBe(false);
      expect(response.status.message).toContain('deadline exceeded');
      // Generous bound: the point is that it answered rather than waiting for the registry (60 s).
      expect(elapsed).toBeLessThan(15_000);
      expect(server.audit.size).toBe(1);
    } finally {
      await server.close();
    }
  });
});

describe.skipIf(!hasRegistry())('a registry behind basic auth (htpasswd)', () => {
  let reg: LocalRegistry;
  beforeAll(async () => {
    reg = await startRegistry({ auth: { username: 'puller', password: 's3cret-pw' } });
  }, 60_000);
  afterAll(() => reg?.stop());

  it('verifies with credentials from a .dockerconfigjson named in the config; without them the image is denied', async () => {
    const push = new Pusher(reg.host, reg.auth);
    const digest = await pushImage(push, 'private/app', 'v1', 'private');
    await signLegacy(push, 'private/app', digest, ec.privateKey);
    const dir = await mkdtemp(join(tmpdir(), 'palisade-dockercfg-'));
    const auth = Buffer.from('puller:s3cret-pw').toString('base64');
    await writeFile(join(dir, '.dockerconfigjson'), JSON.stringify({ auths: { [`http://${reg.host}`]: { auth } } }));
    expect(parseDockerConfig(JSON.stringify({ auths: { [reg.host]: { auth } } })).get(reg.host)).toEqual({ username: 'puller', password: 's3cret-pw' });
    const b = await bundleFor(reg.host);
    const withCreds = await verifierFromConfig({ dockerConfigFile: '.dockerconfigjson', plainHttp: [reg.host], maxManifestBytes: 1 << 20, maxBlobBytes: 1 << 20, positiveTtlSeconds: 60, negativeTtlSeconds: 60, tagTtlSeconds: 0, maxCacheEntries: 100 }, dir);
    expect((await decide(b, withCreds, `${reg.host}/private/app:v1`)).allowed).toBe(true);
    const anonymous = new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }) });
    const d = await decide(b, anonymous, `${reg.host}/private/app:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toMatch(/registry error.*credentials/);
    expect(d.findings[0]!.message).not.toContain('s3cret');
  });
});
