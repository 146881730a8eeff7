import { generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { fieldErrors, signIn } from './support.ts';

const db = await testPglite();
afterAll(() => db.close());
const credentialsKey = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
const h = harness(db, { registries: { credentialsKey } });
const acme = await h.tenant('acme');
const admin = await signIn(h, acme);

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const etagOf = (html: string) => /name="_etag" value="([^"]+)"/.exec(html)![1]!.replaceAll('&quot;', '"');
const first = async (path: string) => (await acme.json('GET', path)).body.items[0];

describe('images: a form with a field per member', () => {
  it('registers an image, placing errors at their fields, and edits it', async () => {
    const registry = (await acme.json('POST', '/v1/registries', { name: 'ghcr', url: 'ghcr.io/acme' })).body;
    const form = await admin.get('/images/new');
    for (const label of ['Image reference', 'Digest', 'Tags, one a line', 'Registry (optional)', 'Compliance', 'Last scan (UTC, optional)']) expect(form.html).toContain(`>${label}</label>`);
    expect(form.html).toContain(`<option value="${registry.id}">ghcr (ghcr.io/acme)</option>`);
    expect(form.html).not.toContain('name="_document"');

    const fields = (digest: string, tags: string): Array<[string, string]> => [['reference', 'ghcr.io/acme/web:1.2'], ['digest', digest], ['tags', tags], ['registryId', registry.id], ['compliance', 'compliant'], ['lastScanAt', '2026-11-30T08:00'], ['_action', 'save']];
    const bad = await admin.post('/images/new', fields('sha256:nothex', 'stable\n-bad-tag'), { 'hx-request': 'true' });
    expect(bad.status).toBe(422);
    expect(fieldErrors(bad.html, 'digest')).toContain('64 lowercase hex');
    expect(fieldErrors(bad.html, 'tags')).toMatch(/^item 2: must be an image tag/);
    expect(bad.html).toMatch(/id="f-digest"[^>]*aria-invalid="true"/);

    const ok = await admin.post('/images/new', fields(DIGEST, 'stable'), { 'hx-request': 'true' });
    expect(ok.headers.get('hx-redirect')).toBe('/images');
    const image = await first('/v1/images?reference=ghcr.io/acme/web');
    expect(image).toMatchObject({ reference: 'ghcr.io/acme/web', digest: DIGEST, tags: ['stable', '1.2'], registryId: registry.id, compliance: 'compliant', lastScanAt: '2026-11-30T08:00:00Z' });

    const edit = await admin.get(`/images/${image.id}`);
    expect(edit.html).toMatch(/name="reference"[^>]*value="ghcr.io\/acme\/web"/);
    expect(edit.html).toContain(`<option value="${registry.id}" selected="">`);
    expect(edit.html).toMatch(/name="lastScanAt"[^>]*value="2026-11-30T08:00"/);
    const saved = await admin.post(`/images/${image.id}`, [['reference', 'ghcr.io/acme/web'], ['digest', DIGEST], ['tags', 'stable\nlatest'], ['registryId', ''], ['compliance', 'notScanned'], ['_etag', etagOf(edit.html)], ['_action', 'save']]);
    expect(saved.status).toBe(303);
    const after = (await acme.json('GET', `/v1/images/${image.id}`)).body;
    expect(after.tags).toEqual(['stable', 'latest']);
    expect(after.registryId).toBeUndefined();
    // A second image with the same repository and digest is refused at those fields.
    const dup = await admin.post('/images/new', fields(DIGEST, ''), { 'hx-request': 'true' });
    expect(dup.status).toBe(409);
    expect(fieldErrors(dup.html, 'reference')).toBe('already taken');
    expect(fieldErrors(dup.html, 'digest')).toBe('already taken');
  });

  it('offers Add and Edit only to whoever may manage images', async () => {
    const role = await acme.json('POST', '/v1/roles', { name: 'image-viewer', rights: ['images.view'] });
    const key = await acme.json('POST', '/v1/api-keys', { name: 'image-viewer', roleIds: [role.body.id] });
    const viewer = await signIn(h, acme, key.body.secret);
    const list = await viewer.get('/images');
    expect(list.html).toContain('ghcr.io/acme/web@');
    expect(list.html).not.toContain('Add image');
    expect(list.html).not.toContain('>Edit<');
    expect((await viewer.get('/images/new')).status).toBe(403);
    // Managing images without seeing registries: no registry drop-down.
    const writerRole = await acme.json('POST', '/v1/roles', { name: 'image-writer', rights: ['images.view', 'images.manage'] });
    const writerKey = await acme.json('POST', '/v1/api-keys', { name: 'image-writer', roleIds: [writerRole.body.id] });
    const writer = await signIn(h, acme, writerKey.body.secret);
    const form = await writer.get('/images/new');
    expect(form.status).toBe(200);
    expect(form.html).toContain('name="digest"');
    expect(form.html).not.toContain('name="registryId"');
  });
});

describe('signature validators: the method drop-down decides the fields', () => {
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).publicKey;

  it('shows the key field for a key and identity rows for keyless, re-rendered on change', async () => {
    const form = await admin.get('/signature-validators/new');
    expect(form.html).toContain('name="publicKey"');
    expect(form.html).not.toContain('name="identities.0.issuer"');
    expect(form.html).toMatch(/<select id="f-method" name="method"[^>]*hx-post="\/signature-validators\/new" hx-trigger="change"/);
    const switched = await admin.post('/signature-validators/new', [['name', 'ci'], ['method', 'keyless'], ['publicKey', pem], ['_action', 'refresh']], { 'hx-request': 'true' });
    expect(switched.status).toBe(200);
    expect(switched.html).toContain('name="identities.0.issuer"');
    expect(switched.html).toContain('name="identities.0.subjectRegExp"');
    expect(switched.html).not.toContain('name="publicKey"');
    expect(switched.html).toContain('value="ci"');

    const half = await admin.post('/signature-validators/new', [['name', 'ci'], ['method', 'keyless'], ['identities.0.issuer', 'https://token.actions.githubusercontent.com'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(half.status).toBe(422);
    expect(fieldErrors(half.html, 'identities.0.subject')).toContain('give exactly one of subject and subjectRegExp');
  });

  it('keeps the trusted root and the registry-error choice through an edit', async () => {
    const root = {
      mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
      certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: 'MIIB' }] }, validFor: { start: '2024-01-01T00:00:00Z' } }],
      timestampAuthorities: [{ certChain: { certificates: [{ rawBytes: 'MIIC' }] }, validFor: { start: '2024-01-01T00:00:00Z' } }],
    };
    const created = (await acme.json('POST', '/v1/signature-validators', { name: 'private', type: 'cosign', verification: { method: 'publicKey', publicKey: pem, trustedRoot: root }, onRegistryError: 'warn' })).body;
    const edit = await admin.get(`/signature-validators/${created.id}`);
    expect(edit.html).toContain('<option value="warn" selected="">');
    const root2 = /<textarea id="f-trustedRoot"[^>]*>([\s\S]*?)<\/textarea>/.exec(edit.html)![1]!.replaceAll('&quot;', '"');
    const saved = await admin.post(`/signature-validators/${created.id}`, [['name', 'private'], ['description', 'edited'], ['method', 'publicKey'], ['publicKey', pem], ['trustedRoot', root2], ['onRegistryError', 'warn'], ['_etag', etagOf(edit.html)], ['_action', 'save']]);
    expect(saved.status).toBe(303);
    const after = (await acme.json('GET', `/v1/signature-validators/${created.id}`)).body;
    expect(after).toMatchObject({ description: 'edited', onRegistryError: 'warn', verification: { method: 'publicKey', trustedRoot: { mediaType: root.mediaType } } });
    const notJson = await admin.post(`/signature-validators/${created.id}`, [['name', 'private'], ['method', 'publicKey'], ['publicKey', pem], ['trustedRoot', '{ not json'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(notJson.status).toBe(422);
    expect(fieldErrors(notJson.html, 'trustedRoot')).toBeTruthy();
  });
});

describe('registries: credentials are write-only, sync settings survive an edit', () => {
  it('stores credentials without showing them, keeps them when left empty, removes them on request', async () => {
    const fields: Array<[string, string]> = [['name', 'harbor'], ['url', 'harbor.example.com/team'], ['type', 'harbor'], ['sync.enabled', 'true'], ['sync.intervalMinutes', '30'], ['sync.repositories', 'team/web\nteam/api'], ['sync.maxRepositories', ''], ['sync.maxTagsPerRepository', '20']];
    const half = await admin.post('/registries/new', [...fields, ['credentials.username', 'robot'], ['sync.intervalMinutes', '1'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(half.status).toBe(422);
    expect(fieldErrors(half.html, 'credentials.password')).toBeTruthy();
    expect(fieldErrors(half.html, 'sync.intervalMinutes')).toBeTruthy();
    const created = await admin.post('/registries/new', [...fields, ['credentials.username', 'robot'], ['credentials.password', 's3cret-token'], ['_action', 'save']]);
    expect(created.status).toBe(303);
    const registry = await first('/v1/registries?name=harbor');
    expect(registry).toMatchObject({ credentialsSet: true, sync: { enabled: true, intervalMinutes: 30, repositories: ['team/web', 'team/api'], maxRepositories: 100, maxTagsPerRepository: 20 } });

    const edit = await admin.get(`/registries/${registry.id}`);
    expect(edit.html).not.toContain('s3cret-token');
    expect(edit.html).toContain('Credentials are stored');
    expect(edit.html).toMatch(/name="sync.intervalMinutes"[^>]*value="30"/);
    const list = await admin.get('/registries');
    expect(list.html).toContain('every 30 min');
    const keep = await admin.post(`/registries/${registry.id}`, [...fields, ['credentialsSet', 'true'], ['description', 'kept'], ['credentials.username', ''], ['credentials.password', ''], ['_etag', etagOf(edit.html)], ['_action', 'save']]);
    expect(keep.status).toBe(303);
    const kept = (await acme.json('GET', `/v1/registries/${registry.id}`)).body;
    expect(kept).toMatchObject({ description: 'kept', credentialsSet: true, sync: { intervalMinutes: 30, repositories: ['team/web', 'team/api'] } });

    const again = await admin.get(`/registries/${registry.id}`);
    const removed = await admin.post(`/registries/${registry.id}`, [...fields, ['credentialsSet', 'true'], ['credentials.remove', 'true'], ['_etag', etagOf(again.html)], ['_action', 'save']]);
    expect(removed.status).toBe(303);
    expect((await acme.json('GET', `/v1/registries/${registry.id}`)).body.credentialsSet).toBe(false);
  });
});
