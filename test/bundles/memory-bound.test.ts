import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ByteLru } from '../../workers/byte-lru.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

describe('ByteLru', () => {
  it('keeps the most recently used values within the byte bound, and none larger than it', () => {
    const lru = new ByteLru<string, string>(10);
    lru.set('a', 'aaaa', 4);
    lru.set('b', 'bbbb', 4);
    expect(lru.get('a')).toBe('aaaa'); // a is now the most recent
    lru.set('c', 'cccc', 4); // 12 > 10: b goes
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual(['aaaa', undefined, 'cccc']);
    expect(lru.bytes).toBe(8);
    lru.set('a', 'aa', 2); // replaced, counted once
    expect(lru.bytes).toBe(6);
    lru.set('huge', 'x'.repeat(11), 11);
    expect(lru.get('huge')).toBeUndefined();
    expect([lru.size, lru.bytes]).toEqual([2, 6]);
    lru.delete('c');
    expect([lru.size, lru.bytes]).toEqual([1, 2]);
  });
});

/** An instance serving many clusters keeps only as many bundles in memory as its bound allows, and serves them all. */
const database = await testPglite();
const BOUND = 24 * 1024;
const h = harness(database, { cacheMaxBytes: BOUND });
afterAll(() => database.close());

describe('bundles held in memory', () => {
  let acme: TenantClient;
  beforeAll(async () => {
    acme = await h.tenant('acme');
    const scope = await acme.json('POST', '/v1/scopes', { name: 'all', resources: [{ type: 'cluster', cluster: '*' }] });
    await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id], limitContainerPrivileges: { enabled: true, preset: 'baseline' } });
  });

  it('stay within the bound across many clusters, and every cluster still gets its own bundle', async () => {
    const agents = [];
    for (let i = 0; i < 8; i++) agents.push(await enrolledCluster(h, acme, `c-${i}`));
    const etags = new Map<string, string>();
    for (const round of [0, 1]) {
      for (const agent of agents) {
        const res = await agentRequest(h, agent.credential, '/v1/agent/bundle');
        expect(res.status).toBe(200);
        const jws = await res.text();
        const claims = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { aud: string };
        expect(claims.aud).toBe(agent.clusterId);
        if (round === 0) etags.set(agent.clusterId, res.headers.get('etag')!);
        else expect(res.headers.get('etag')).toBe(etags.get(agent.clusterId)); // evicted, read again: the same bundle
        expect(h.app.bundles.held.bytes).toBeLessThanOrEqual(BOUND);
      }
    }
    expect(h.app.bundles.held.bundles).toBeGreaterThan(0);
    expect(h.app.bundles.held.bundles).toBeLessThan(agents.length);
  });
});
