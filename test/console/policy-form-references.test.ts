import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { fieldErrors, signIn } from './support.ts';

const db = await testPglite();
afterAll(() => db.close());
const h = harness(db);
const acme = await h.tenant('acme');
const admin = await signIn(h, acme);
const scope = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body;
const ghcr = (await acme.json('POST', '/v1/registries', { name: 'ghcr', url: 'ghcr.io/acme' })).body;
const quay = (await acme.json('POST', '/v1/registries', { name: 'quay', url: 'quay.io/acme' })).body;

const base = (name: string): Array<[string, string]> => [['name', name], ['mode', 'enforce'], ['scopeIds', scope.id], ['enabled', 'true'], ['_action', 'save']];
const etagOf = (html: string) => /name="_etag" value="([^"]+)"/.exec(html)![1]!.replaceAll('&quot;', '"');
const policyNamed = async (name: string) => (await acme.json('GET', `/v1/runtime-policies?name=${name}`)).body.items[0];

describe('registries allowed: a picker of the tenant registries next to typed prefixes', () => {
  it('lists the registries by name and URL, stores a pick as { registryId } and a typed line as a prefix', async () => {
    const form = await admin.get('/policies/new');
    expect(form.html).toMatch(new RegExp(`<input type="checkbox" id="f-registriesAllowed-registryIds-0" name="registriesAllowed.registryIds" value="${ghcr.id}"/> ghcr \\(ghcr.io/acme\\)`));
    expect(form.html).toContain(`value="${quay.id}"/> quay (quay.io/acme)`);
    const saved = await admin.post('/policies/new', [...base('picked'), ['registriesAllowed.enabled', 'true'], ['registriesAllowed.registryIds', quay.id], ['registriesAllowed.other', 'registry.internal:5000/team\n']], { 'hx-request': 'true' });
    expect(saved.headers.get('hx-redirect')).toMatch(/^\/policies\?saved=/);
    const policy = await policyNamed('picked');
    expect(policy.registriesAllowed).toEqual({ enabled: true, registries: [{ registryId: quay.id }, 'registry.internal:5000/team'] });
    // Editing shows the pick checked and only the typed prefix in the text field; saving unchanged keeps both.
    const edit = await admin.get(`/policies/${policy.id}`);
    expect(edit.html).toContain(`value="${quay.id}" checked=""/> quay (quay.io/acme)`);
    expect(edit.html).toContain(`value="${ghcr.id}"/> ghcr`);
    expect(edit.html).toMatch(/name="registriesAllowed.other"[^>]*>registry.internal:5000\/team<\/textarea>/);
    // A registry in use by the policy cannot be deleted (the reference is a real one).
    expect((await acme.json('DELETE', `/v1/registries/${quay.id}`)).status).toBe(409);
  });

  it('keeps a typed prefix a prefix even when it equals a registry URL (no silent conversion)', async () => {
    await admin.post('/policies/new', [...base('typed'), ['registriesAllowed.enabled', 'true'], ['registriesAllowed.other', 'ghcr.io/acme']]);
    const policy = await policyNamed('typed');
    expect(policy.registriesAllowed.registries).toEqual(['ghcr.io/acme']);
    const edit = await admin.get(`/policies/${policy.id}`);
    expect(edit.html).not.toContain(`value="${ghcr.id}" checked=""`);
    expect(edit.html).toMatch(/name="registriesAllowed.other"[^>]*>ghcr.io\/acme<\/textarea>/);
  });

  it('places an error about a typed prefix at its line and one about a picked registry at the picker', async () => {
    const badLine = await admin.post('/policies/new', [...base('bad-line'), ['registriesAllowed.enabled', 'true'], ['registriesAllowed.registryIds', ghcr.id], ['registriesAllowed.other', 'quay.io/ok\nNot A Prefix!']], { 'hx-request': 'true' });
    expect(badLine.status).toBe(422);
    // The API says /registriesAllowed/registries/2 (the pick comes first); the form's second line is meant.
    expect(fieldErrors(badLine.html, 'registriesAllowed.other')).toMatch(/^item 2: /);
    expect(fieldErrors(badLine.html, 'registriesAllowed.registryIds')).toBeUndefined();
    expect(badLine.html).toContain(`value="${ghcr.id}" checked=""`);

    const gone = '01900000-0000-7000-8000-000000000000';
    const unknown = await admin.post('/policies/new', [...base('bad-pick'), ['registriesAllowed.enabled', 'true'], ['registriesAllowed.registryIds', gone], ['registriesAllowed.other', 'quay.io/ok']], { 'hx-request': 'true' });
    expect(unknown.status).toBe(422);
    expect(fieldErrors(unknown.html, 'registriesAllowed.registryIds')).toBe(`${gone}: no registry ${gone}`);
    expect(fieldErrors(unknown.html, 'registriesAllowed.other')).toBeUndefined();
    expect(unknown.html).toContain(`value="${gone}" checked=""/> ${gone} (not found)`);
    expect(await policyNamed('bad-pick')).toBeUndefined();
  });

  it('keeps references a principal cannot see, without offering other registries', async () => {
    const role = await acme.json('POST', '/v1/roles', { name: 'policy-writer', rights: ['runtimePolicies.view', 'runtimePolicies.manage', 'scopes.view'] });
    const key = await acme.json('POST', '/v1/api-keys', { name: 'policy-writer', roleIds: [role.body.id] });
    const writer = await signIn(h, acme, key.body.secret);
    const policy = await policyNamed('picked');
    const edit = await writer.get(`/policies/${policy.id}`);
    expect(edit.html).not.toContain('quay (quay.io/acme)');
    expect(edit.html).not.toContain(ghcr.id);
    expect(edit.html).toContain(`value="${quay.id}" checked=""/> ${quay.id} (your roles do not show these)`);
    const saved = await writer.post(`/policies/${policy.id}`, [...base('picked'), ['_etag', etagOf(edit.html)], ['registriesAllowed.enabled', 'true'], ['registriesAllowed.registryIds', quay.id], ['registriesAllowed.other', 'registry.internal:5000/team'], ['description', 'by the writer']], { 'hx-request': 'true' });
    expect(saved.headers.get('hx-redirect')).toMatch(/^\/policies\?saved=/);
    expect((await policyNamed('picked')).registriesAllowed.registries).toEqual([{ registryId: quay.id }, 'registry.internal:5000/team']);
    // Nor are validators or profiles offered to whoever cannot see them.
    const rows = await writer.post('/policies/new', [['name', 'x'], ['imageContentProtection.rules.0.registryUrlTemplate', 'ghcr.io/**'], ['imageContentProtection.rules.0.verify', 'true'], ['containerRuntimeProfiles.mappings.0.by', 'labels'], ['_action', 'refresh']], { 'hx-request': 'true' });
    expect(rows.html).toContain('Your roles do not show signature validators');
    expect(rows.html).not.toContain('name="imageContentProtection.rules.0.validatorId"');
    expect(rows.html).toContain('Your roles do not show runtime profiles');
    expect(rows.html).not.toContain('name="containerRuntimeProfiles.mappings.0.profileIds"');
  });
});

describe('image content protection: the validator drop-down shows what the chosen validator accepts', () => {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
  const fingerprint = [...createHash('sha256').update(createPublicKey(pair.publicKey).export({ type: 'spki', format: 'der' })).digest()].map((b) => b.toString(16).padStart(2, '0')).join(':');

  it('switches the shown fields by the validator method and by Check / Don\'t check', async () => {
    const keyed = (await acme.json('POST', '/v1/signature-validators', { name: 'release-key', type: 'cosign', verification: { method: 'publicKey', publicKey: pair.publicKey }, onRegistryError: 'warn' })).body;
    const keyless = (await acme.json('POST', '/v1/signature-validators', { name: 'gh-actions', type: 'cosign', verification: { method: 'keyless', identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github\\.com/acme/.+$' }] } })).body;
    const rule = (verify: string, validatorId: string): Array<[string, string]> => [['name', 'signed'], ['imageContentProtection.enabled', 'true'], ['imageContentProtection.rules.0.registryUrlTemplate', 'ghcr.io/acme/**'], ['imageContentProtection.rules.0.verify', verify], ['imageContentProtection.rules.0.validatorId', validatorId], ['_action', 'refresh']];

    const byKey = await admin.post('/policies/new', rule('true', keyed.id), { 'hx-request': 'true' });
    expect(byKey.html).toContain('>release-key (cosign key)</option>');
    expect(byKey.html).toContain('>gh-actions (keyless)</option>');
    expect(byKey.html).toContain(`<code class="fingerprint">${fingerprint}</code>`);
    expect(byKey.html).toContain('it admits with a warning');
    expect(byKey.html).not.toContain('token.actions.githubusercontent.com');

    const byIdentity = await admin.post('/policies/new', rule('true', keyless.id), { 'hx-request': 'true' });
    expect(byIdentity.html).toContain('issuer <code>https://token.actions.githubusercontent.com</code>, subject matching <code>^https://github\\.com/acme/.+$</code>');
    expect(byIdentity.html).toContain("Sigstore&#39;s public-good root");
    expect(byIdentity.html).not.toContain('fingerprint');

    const unchecked = await admin.post('/policies/new', rule('false', keyless.id), { 'hx-request': 'true' });
    expect(unchecked.html).not.toContain('<select id="f-imageContentProtection-rules-0-validatorId"');
    expect(unchecked.html).toContain(`<input type="hidden" name="imageContentProtection.rules.0.validatorId" value="${keyless.id}"/>`);
    expect(unchecked.html).toContain('admitted without a signature check');

    // A rule that checks but names no validator: the API's error sits at the drop-down.
    const missing = await admin.post('/policies/new', [...base('signed'), ...rule('true', '').filter(([k]) => k !== '_action' && k !== 'name')], { 'hx-request': 'true' });
    expect(missing.status).toBe(422);
    expect(fieldErrors(missing.html, 'imageContentProtection.rules.0.validatorId')).toContain('needs a validator');
    const saved = await admin.post('/policies/new', [...base('signed'), ...rule('true', keyed.id).filter(([k]) => k !== '_action' && k !== 'name')], { 'hx-request': 'true' });
    expect(saved.headers.get('hx-redirect')).toMatch(/^\/policies\?saved=/);
    expect((await policyNamed('signed')).imageContentProtection.rules).toEqual([{ registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId: keyed.id }]);
  });
});

describe('exclusions name their namespaces', () => {
  it('asks a workload exclusion for its namespace at that field, and keeps it on edit', async () => {
    const row = (ns: string | undefined): Array<[string, string]> => [['exclusions.enabled', 'true'], ['exclusions.items.0.kind', 'Deployment'], ['exclusions.items.0.name', 'debug-*'], ...(ns === undefined ? [] : [['exclusions.items.0.namespace', ns] as [string, string]])];
    const missing = await admin.post('/policies/new', [...base('excluding'), ...row('')], { 'hx-request': 'true' });
    expect(missing.status).toBe(422);
    expect(fieldErrors(missing.html, 'exclusions.items.0.namespace')).toContain('must name its namespace');
    const saved = await admin.post('/policies/new', [...base('excluding'), ...row('tools-*')], { 'hx-request': 'true' });
    expect(saved.headers.get('hx-redirect')).toMatch(/^\/policies\?saved=/);
    const policy = await policyNamed('excluding');
    expect(policy.exclusions.items).toEqual([{ kind: 'Deployment', name: 'debug-*', namespace: 'tools-*' }]);
    expect((await admin.get(`/policies/${policy.id}`)).html).toMatch(/name="exclusions.items.0.namespace"[^>]*value="tools-\*"/);
  });
});
