import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleClient, enroll, MemoryBundleStore, type Enrollment } from '../../agent-sdk/src/index.ts';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';

// The Worker under Miniflare signs (jose in workerd, Postgres through the Neon driver), and the Node agent SDK, over
// the Worker's real local port, enrolls, pulls and verifies what it served.
describe.skipIf(skipWithoutPostgres('test/worker/agent.test.ts'))('a Node agent against the Workers bundle', () => {
  let worker: BootedWorker | undefined;
  let current: SigningKey;
  let next: SigningKey;
  let enrollment: Enrollment;
  let tenantId: string;

  beforeAll(async () => {
    const [c, n] = await Promise.all([generateSigningKey(), generateSigningKey()]);
    [current, next] = [c.key, n.key];
    worker = await bootWorker({ bindings: { PALISADE_SIGNING_KEY: JSON.stringify(c.privateJwk), PALISADE_SIGNING_KEYS_NEXT: JSON.stringify([n.privateJwk]) } });
    tenantId = await worker.tenant('acme');
  }, 180_000);

  afterAll(() => worker?.close());

  it('enrolls through the Worker and gets a trust anchor with the current and the next key', async () => {
    const cluster = await worker!.call('POST', '/v1/clusters', { name: 'prod-eu' });
    expect(cluster.status).toBe(201);
    const token = await worker!.call('POST', `/v1/clusters/${cluster.body.id}/enrollment-tokens`, {});
    expect(token.status).toBe(201);
    enrollment = await enroll({ url: worker!.url.href, token: token.body.token });
    expect(enrollment).toMatchObject({ clusterId: cluster.body.id, tenantId });
    expect(enrollment.jwks.keys.map((k) => k.kid)).toEqual([current.kid, next.kid]);
    expect(enrollment.jwks.keys.every((k) => !('d' in k))).toBe(true);
    await expect(enroll({ url: worker!.url.href, token: token.body.token })).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('pulls and verifies the bundle the Worker signed, then gets a 304', async () => {
    const scope = await worker!.call('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    const policy = await worker!.call('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id] });
    expect(policy.status).toBe(201);
    const { credential, jwks: trust, issuer, clusterId } = enrollment;
    const client = new BundleClient({ url: worker!.url.href, credential, trust, issuer, tenantId, clusterId, store: new MemoryBundleStore() });
    const first = await client.pollOnce();
    expect(first.outcome, JSON.stringify(first)).toBe('activated');
    expect(client.active).toMatchObject({ kid: current.kid, alg: 'EdDSA', tenantId, clusterId, revision: 1, expired: false });
    expect(client.active!.content.policies.map((p) => p.name)).toEqual(['baseline']);
    expect(await client.pollOnce()).toEqual({ outcome: 'not_modified' });
    expect(client.status()).toMatchObject({ activeRevision: 1, lastError: null, counters: { polls: 2, notModified: 1, downloads: 1, activations: 1 } });
    expect(await client.refreshTrust()).toMatchObject({ changed: false, keys: [current.kid, next.kid] }); // loopback: plain HTTP allowed
  });
});
