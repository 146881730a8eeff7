import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { loadKeyRing } from '../../workers/node.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, TEST_ISSUER } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());

describe('signing key rotation', () => {
  it('publishes old and new keys, re-signs with the new one, and old bundles keep verifying', async () => {
    const oldKey = (await generateSigningKey()).key;
    const newKey = (await generateSigningKey()).key;
    const before = harness(database, { signing: { issuer: TEST_ISSUER, keys: { current: oldKey, previous: [] } } });
    const acme = await before.tenant('acme');
    const agent = await enrolledCluster(before, acme, 'prod-eu');
    const oldJws = await (await agentRequest(before, agent.credential, '/v1/agent/bundle')).text();
    expect(decodeProtectedHeader(oldJws).kid).toBe(oldKey.kid);

    const after = harness(database, { signing: { issuer: TEST_ISSUER, keys: { current: newKey, previous: [oldKey] } } });
    const jwks = (await (await after.app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet;
    expect(jwks.keys.map((k) => k.kid)).toEqual([newKey.kid, oldKey.kid]);

    const res = await agentRequest(after, agent.credential, '/v1/agent/bundle');
    const newJws = await res.text();
    expect(decodeProtectedHeader(newJws).kid).toBe(newKey.kid);
    // The agent's anchor from enrollment knows only the old key: the new bundle fails until it refreshes.
    await expect(jwtVerify(newJws, createLocalJWKSet(agent.jwks as JSONWebKeySet))).rejects.toThrow();
    const refreshed = createLocalJWKSet(jwks);
    const fresh = await jwtVerify(newJws, refreshed, { issuer: TEST_ISSUER, audience: agent.clusterId });
    const stale = await jwtVerify(oldJws, refreshed, { issuer: TEST_ISSUER, audience: agent.clusterId });
    expect(fresh.payload.rev).toBe(stale.payload.rev); // re-signing is not a content change
    expect(fresh.payload.dig).toBe(stale.payload.dig);
  });

  it('publishes next keys ahead of a rotation without signing with them (Node: signing-keys-next/)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'palisade-keys-'));
    try {
      const generated = await loadKeyRing(dir);
      expect(generated).toMatchObject({ previous: [], next: [] });
      const upcoming = await generateSigningKey();
      writeFileSync(join(dir, 'signing-keys-next', `${upcoming.key.kid}.json`), JSON.stringify(upcoming.privateJwk));
      const keys = await loadKeyRing(dir);
      expect([keys.current.kid, keys.next!.map((k) => k.kid)]).toEqual([generated.current.kid, [upcoming.key.kid]]);

      const h = harness(database, { signing: { issuer: TEST_ISSUER, keys } });
      const published = (await (await h.app.request('/.well-known/jwks.json')).json()) as JSONWebKeySet;
      expect(published.keys.map((k) => k.kid)).toEqual([keys.current.kid, upcoming.key.kid]);
      expect(published.keys.every((k) => !('d' in k))).toBe(true);
      const agent = await enrolledCluster(h, await h.tenant('globex'), 'prod-us');
      expect(agent.jwks).toEqual(published);
      const jws = await (await agentRequest(h, agent.credential, '/v1/agent/bundle')).text();
      expect(decodeProtectedHeader(jws).kid).toBe(keys.current.kid);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
