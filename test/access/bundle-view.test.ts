import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { keyWithRights } from '../support/harness.ts';
import { mustCreate, twoTenants } from '../support/resource-checks.ts';

const { h, acme } = await twoTenants();
const publicKey = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey;

let clusterId: string;
let globalId: string;
let prodId: string;
let validatorId: string;

beforeAll(async () => {
  clusterId = (await mustCreate(acme, '/v1/clusters', { name: 'prod-eu' })).body.id;
  globalId = (await acme.json('GET', '/v1/scopes?name=global')).body.items[0].id;
  prodId = (await mustCreate(acme, '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  validatorId = (await mustCreate(acme, '/v1/signature-validators', { name: 'release-key', type: 'cosign', verification: { method: 'publicKey', publicKey } })).body.id;
  await mustCreate(acme, '/v1/runtime-policies', {
    name: 'signed',
    mode: 'enforce',
    scopeIds: [globalId, prodId],
    imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId }] },
  });
});

const bundleAs = async (rights: string[]) => {
  const client = h.as(acme, await keyWithRights(acme, rights));
  return client.json('GET', `/v1/clusters/${clusterId}/bundle`);
};
const base = ['clusters.view', 'runtimePolicies.view'];

describe('GET /v1/clusters/{id}/bundle shows only what the caller may view', () => {
  it('shows everything, as the agent receives it, to a caller holding every view right', async () => {
    const full = await acme.json('GET', `/v1/clusters/${clusterId}/bundle`);
    expect(full.status).toBe(200);
    expect(full.body.signatureValidators.map((v: { id: string }) => v.id)).toEqual([validatorId]);
    expect(full.body.policies[0].scopes.map((s: { id: string }) => s.id).sort()).toEqual([globalId, prodId].sort());
    expect(full.body).not.toHaveProperty('redacted');
    expect(full.headers.get('palisade-bundle-digest')).toMatch(/^sha256:/);
  });

  it('leaves out validators without signatureValidators.view, and every scope without scopes.view', async () => {
    const res = await bundleAs(base);
    expect(res.status).toBe(200);
    const text = JSON.stringify(res.body);
    expect(res.body.signatureValidators).toEqual([]);
    expect(text).not.toContain(publicKey.split('\n')[1]);
    expect(text).not.toContain('release-key');
    expect(res.body.policies[0].scopes).toEqual([]);
    expect(text).not.toContain('prod-*');
    expect(res.body.redacted).toEqual(expect.arrayContaining(['/signatureValidators', '/policies/0/scopes']));
    expect(res.headers.get('palisade-bundle-redacted')).toContain('/signatureValidators');
    // What is shown is not the signed content: no digest or ETag that would claim it is.
    expect(res.headers.get('palisade-bundle-digest')).toBeNull();
    expect(res.headers.get('etag')).toBeNull();
  });

  it('shows scopes with scopes.view but the global scope only with scopes.viewGlobal, as /v1/scopes does', async () => {
    const res = await bundleAs([...base, 'scopes.view', 'signatureValidators.view']);
    expect(res.body.policies[0].scopes.map((s: { id: string }) => s.id)).toEqual([prodId]);
    expect(res.body.signatureValidators.map((v: { id: string }) => v.id)).toEqual([validatorId]);
    expect(res.body.redacted).toEqual(['/policies/0/scopes']);
    expect((await h.as(acme, (await keyWithRights(acme, [...base, 'scopes.view'])) ).json('GET', `/v1/scopes/${globalId}`)).status).toBe(404);

    const all = await bundleAs([...base, 'scopes.view', 'scopes.viewGlobal', 'signatureValidators.view']);
    expect(all.body.policies[0].scopes).toHaveLength(2);
  });

  it('leaves out the File Threat Protection settings and the signature set they name without fileThreatProtection.view', async () => {
    await mustCreate(acme, '/v1/runtime-policies', { name: 'ftp', mode: 'audit', scopeIds: [prodId], fileThreatProtection: { enabled: true } });
    const full = await acme.json('GET', `/v1/clusters/${clusterId}/bundle`);
    const facts = (await acme.json('GET', '/v1/file-signatures')).body;
    expect(full.body.fileSignatures).toEqual({ version: facts.version, digest: facts.digest, signatureCount: facts.signatureCount });
    const res = await bundleAs(base);
    expect(res.body).not.toHaveProperty('fileSignatures');
    expect(res.body.fileThreatProtection).toBeNull();
    expect(res.body.redacted).toEqual(expect.arrayContaining(['/fileThreatProtection', '/fileSignatures']));
    const allowed = await bundleAs([...base, 'fileThreatProtection.view']);
    expect(allowed.body.fileSignatures).toEqual(full.body.fileSignatures);
  });
});

