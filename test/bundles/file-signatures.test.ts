import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleContentV1 } from '../../schema/bundle.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, TEST_ISSUER, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

// The bundle names the tenant's effective signature set; a signature change is a new bundle revision and ETag.
const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let agent: Awaited<ReturnType<typeof enrolledCluster>>;
let scopeId: string;

beforeAll(async () => {
  acme = await h.tenant('acme');
  agent = await enrolledCluster(h, acme, 'prod-eu');
  scopeId = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
});

const pull = (headers: Record<string, string> = {}) => agentRequest(h, agent.credential, '/v1/agent/bundle', { headers });
async function bundle() {
  const res = await pull();
  const { payload } = await jwtVerify(await res.text(), createLocalJWKSet(agent.jwks as never), { issuer: TEST_ISSUER, audience: agent.clusterId });
  return { etag: res.headers.get('etag')!, revision: payload.rev as number, content: BundleContentV1.parse(payload.bundle) };
}
const effective = async () => (await acme.json('GET', '/v1/file-signatures')).body as { version: number; digest: string; signatureCount: number };

describe('bundles name the signature set', () => {
  it('only when File Threat Protection is on; then with the version and digest the agent endpoint serves', async () => {
    await acme.json('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'enforce', scopeIds: [scopeId] });
    const off = await bundle();
    expect(off.content.fileThreatProtection).toBeNull();
    expect(off.content.fileSignatures).toBeUndefined();
    // A signature change while nothing scans leaves the bundle alone.
    await acme.json('POST', '/v1/file-signature-sets', { name: 'early', format: 'hdb', content: `${'01'.repeat(16)}:4:Early\n` });
    expect((await bundle()).revision).toBe(off.revision);

    await acme.json('POST', '/v1/runtime-policies', { name: 'ftp', mode: 'enforce', scopeIds: [scopeId], fileThreatProtection: { enabled: true } });
    const on = await bundle();
    expect(on.revision).toBe(off.revision + 1);
    const facts = await effective();
    expect(on.content.fileSignatures).toEqual({ version: facts.version, digest: facts.digest, signatureCount: facts.signatureCount });
    const served = await agentRequest(h, agent.credential, '/v1/agent/file-signatures');
    expect(served.headers.get('palisade-signatures-digest')).toBe(facts.digest);
  });

  it('a signature change gives a new revision and ETag; a change that leaves the set as it was does not', async () => {
    const before = await bundle();
    const created = await acme.json('POST', '/v1/file-signature-sets', { name: 'weekly', format: 'ndb', content: 'Weekly.A:0:*:0a0b0c0d\n' });
    expect(created.status).toBe(201);
    const after = await bundle();
    expect(after.revision).toBe(before.revision + 1);
    expect(after.etag).not.toBe(before.etag);
    expect((await pull({ 'if-none-match': before.etag })).status).toBe(200);
    expect(after.content.fileSignatures!.version).toBe(before.content.fileSignatures!.version + 1);
    expect(after.content.fileSignatures!.digest).not.toBe(before.content.fileSignatures!.digest);
    expect(after.content.fileSignatures!.signatureCount).toBe(before.content.fileSignatures!.signatureCount + 1);

    // A second set holding the same signature, and a new description: the effective set is unchanged.
    await acme.json('POST', '/v1/file-signature-sets', { name: 'copy', format: 'palisade', signatures: [{ type: 'body', name: 'Weekly.A', pattern: '0a0b0c0d' }] });
    await acme.json('PATCH', `/v1/file-signature-sets/${created.body.id}`, { description: 'rotated weekly' }, { 'content-type': 'application/merge-patch+json' });
    const same = await bundle();
    expect(same.revision).toBe(after.revision);
    expect((await pull({ 'if-none-match': after.etag })).status).toBe(304);

    expect((await acme.request('DELETE', `/v1/file-signature-sets/${created.body.id}`)).status).toBe(204);
    expect((await bundle()).revision).toBe(after.revision); // the copy still holds Weekly.A
    const copy = (await acme.json('GET', '/v1/file-signature-sets?name=copy')).body.items[0];
    await acme.request('DELETE', `/v1/file-signature-sets/${copy.id}`);
    const removed = await bundle();
    expect(removed.revision).toBe(after.revision + 1);
    expect(removed.content.fileSignatures!.digest).toBe(before.content.fileSignatures!.digest);
    expect(removed.content.fileSignatures!.version).toBe(after.content.fileSignatures!.version + 1);
  });
});

describe('signing the effective set', () => {
  it('re-signs with the new key after a rotation and when half the lifetime is gone, keeping the ETag (same content)', async () => {
    const oldKey = (await generateSigningKey()).key;
    const newKey = (await generateSigningKey()).key;
    let now = new Date('2026-06-01T00:00:00Z');
    const before = harness(database, { signing: { issuer: TEST_ISSUER, keys: { current: oldKey, previous: [] }, ttlSeconds: 3600 }, now: () => now });
    const first = await agentRequest(before, agent.credential, '/v1/agent/file-signatures');
    const firstJws = await first.text();
    expect(decodeProtectedHeader(firstJws).kid).toBe(oldKey.kid);
    const etag = first.headers.get('etag')!;

    const after = harness(database, { signing: { issuer: TEST_ISSUER, keys: { current: newKey, previous: [oldKey] }, ttlSeconds: 3600 }, now: () => now });
    const rotated = await agentRequest(after, agent.credential, '/v1/agent/file-signatures');
    const rotatedJws = await rotated.text();
    expect(decodeProtectedHeader(rotatedJws).kid).toBe(newKey.kid);
    expect(rotated.headers.get('etag')).toBe(etag); // the content is the same: agents holding it get 304
    expect((await agentRequest(after, agent.credential, '/v1/agent/file-signatures', { headers: { 'if-none-match': etag } })).status).toBe(304);

    now = new Date(now.getTime() + 31 * 60_000); // past half of the hour
    const renewed = await (await agentRequest(after, agent.credential, '/v1/agent/file-signatures')).text();
    expect(decodeJwt(renewed).iat).toBe(decodeJwt(rotatedJws).iat! + 31 * 60);
    expect(decodeJwt(renewed).dig).toBe(decodeJwt(firstJws).dig);
  });
});

