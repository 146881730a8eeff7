import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySharedCache } from '../../workers/agents/shared-cache.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { countingDatabase } from '../support/counting-driver.ts';
import { harness, type Harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

/**
 * Several app instances of one place (as Workers isolates of a data center): one database, one shared cache, one
 * (virtual) clock, each instance its own memory. The staleness bound is MAX_AGE: a change or revocation made through
 * one instance holds on it at once and on every other instance within MAX_AGE.
 */
const MAX_AGE = 15_000;
const database = await testPglite();
afterAll(() => database.close());
const counting = countingDatabase(database.client);
let now = Date.parse('2026-12-02T10:00:00Z');
const clock = () => new Date(now);
const shared = new MemorySharedCache(10_000, () => now);
const instance = (): Harness => harness(counting.database, { now: clock, cacheMaxAgeMs: MAX_AGE, sharedCache: shared });
const instances = [instance(), instance(), instance(), instance()];
const [a] = instances as [Harness, ...Harness[]];
let acme: TenantClient;
let scopeId: string;

beforeAll(async () => {
  acme = await a.tenant('acme');
  scopeId = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scopeId], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
});

const poll = (h: Harness, credential: string, etag?: string) => agentRequest(h, credential, '/v1/agent/bundle', { headers: etag ? { 'if-none-match': etag } : {} });
/** Statements the call sent to the database (BEGIN and COMMIT included). */
async function statements<T>(fn: () => Promise<T>): Promise<{ result: T; used: number }> {
  const before = counting.statements();
  const result = await fn();
  return { result, used: counting.statements() - before };
}

describe('unchanged polls across instances', () => {
  it('cost one statement on the first instance that sees the credential and none after, on any instance', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-one');
    now += MAX_AGE + 1; // nothing cached is fresh
    const first = await statements(() => poll(instances[1]!, agent.credential));
    expect(first.result.status).toBe(200);
    const etag = first.result.headers.get('etag')!;
    // Unchanged polls everywhere, for longer than the staleness bound: the markers are re-read once per bound for all.
    let total = 0;
    for (let i = 0; i < 40; i++) {
      now += 1000;
      const { result, used } = await statements(() => poll(instances[i % instances.length]!, agent.credential, etag));
      expect(result.status).toBe(304);
      expect(used).toBeLessThanOrEqual(1);
      total += used;
    }
    expect(total).toBeLessThanOrEqual(Math.ceil((40 * 1000) / MAX_AGE) + 1);
  });

  it('a credential seen by no instance costs one statement, on an instance without the markers too', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-two');
    now += MAX_AGE + 1;
    const fresh = instance();
    const { result, used } = await statements(() => poll(fresh, agent.credential));
    expect(result.status).toBe(200);
    // The bundle of a new cluster is compiled on first poll (not an unchanged poll); the 304 after it costs one at most.
    const again = await statements(() => poll(instance(), agent.credential, result.headers.get('etag')!));
    expect(again.result.status).toBe(304);
    expect(again.used).toBeLessThanOrEqual(1);
    expect(used).toBeGreaterThan(0);
  });
});

describe('last use', () => {
  it('of credentials answered from the caches is written at most about a minute late (the console shows it as the last poll)', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-touch');
    const etag = (await poll(a, agent.credential)).headers.get('etag')!;
    const lastUsed = async () => Date.parse((await acme.json('GET', `/v1/clusters/${agent.clusterId}/credentials`)).body.items[0].lastUsedAt);
    const firstUse = await lastUsed();
    for (let i = 0; i < 18; i++) {
      now += 10_000;
      const { result, used } = await statements(() => poll(instances[i % instances.length]!, agent.credential, etag));
      expect(result.status).toBe(304);
      expect(used).toBeLessThanOrEqual(1);
    }
    const latest = await lastUsed();
    expect(latest).toBeGreaterThan(firstUse + 60_000);
    expect(now - latest).toBeLessThanOrEqual(70_000);
  });
});

describe('what the shared cache allows', () => {
  it('a change reaches the instance it was made through at once, and every other instance within the bound', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-change');
    const etag = (await poll(a, agent.credential)).headers.get('etag')!;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(304);
    await acme.json('POST', '/v1/runtime-policies', { name: `caps-${now}`, mode: 'audit', scopeIds: [scopeId], capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } });
    const through = await poll(a, agent.credential, etag);
    expect(through.status).toBe(200);
    const newEtag = through.headers.get('etag')!;
    expect(newEtag).not.toBe(etag);
    // Within the bound another instance may still answer from its cache (what the bound allows)...
    now += MAX_AGE / 2;
    const within = await poll(instances[2]!, agent.credential, etag);
    expect([200, 304]).toContain(within.status);
    // ...past it, none may.
    now += MAX_AGE / 2 + 1;
    for (const h of instances) {
      const res = await poll(h, agent.credential, etag);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toBe(newEtag);
    }
  });

  it('a revocation reaches every instance within the bound, including ones that trusted the credential from memory', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-revoke');
    const etag = (await poll(a, agent.credential)).headers.get('etag')!;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(304);
    const [credential] = (await acme.json('GET', `/v1/clusters/${agent.clusterId}/credentials`)).body.items;
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${credential.id}/revoke`)).status).toBe(204);
    expect((await poll(a, agent.credential, etag)).status).toBe(401);
    // An instance that never held it in memory must not take it from the shared cache either.
    expect((await poll(instance(), agent.credential, etag)).status).toBe(401);
    now += MAX_AGE + 1;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(401);
  });

  it('a rotation shortens the old credential everywhere, and deleting the cluster ends its credentials everywhere', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-rotate');
    const etag = (await poll(a, agent.credential)).headers.get('etag')!;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(304);
    const rotated = await agentRequest(instances[1]!, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(rotated.status).toBe(201);
    const { credential: successor, previousCredentialExpiresAt } = (await rotated.json()) as { credential: string; previousCredentialExpiresAt: string };
    now += MAX_AGE + 1;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(304); // in its overlap
    now = Date.parse(previousCredentialExpiresAt) + 1;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(401);
    for (const h of instances) expect((await poll(h, successor, etag)).status).toBe(304);
    expect((await acme.request('DELETE', `/v1/clusters/${agent.clusterId}`)).status).toBe(204);
    expect((await poll(a, successor, etag)).status).toBe(401);
    now += MAX_AGE + 1;
    for (const h of instances) expect((await poll(h, successor, etag)).status).toBe(401);
  });

  it('a re-signed bundle (past half its lifetime) is served everywhere without waiting for a marker', async () => {
    const agent = await enrolledCluster(a, acme, 'prod-resign');
    const etag = (await poll(a, agent.credential)).headers.get('etag')!;
    for (const h of instances) expect((await poll(h, agent.credential, etag)).status).toBe(304);
    now += 12 * 3600 * 1000 + 1000; // the signature (24 h) has less than half its life left
    const res = await poll(instances[3]!, agent.credential, etag);
    expect(res.status).toBe(200);
    const resigned = res.headers.get('etag')!;
    expect(resigned).not.toBe(etag);
    for (const h of instances) expect((await poll(h, agent.credential, resigned)).status).toBe(304);
  });
});
