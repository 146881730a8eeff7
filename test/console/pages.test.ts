import { afterAll, describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { fieldErrors, ORIGIN, signIn } from './support.ts';

const db = await testPglite();
afterAll(() => db.close());
const h = harness(db);
const acme = await h.tenant('acme');

describe('console sign-in and session', () => {
  it('sends anonymous visitors to the sign-in page', async () => {
    const res = await h.app.request(`${ORIGIN}/policies`);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/login?next=%2Fpolicies');
  });

  it('keeps the key out of the page, in an HttpOnly Secure SameSite=Strict cookie', async () => {
    const res = await h.app.request(`${ORIGIN}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, body: new URLSearchParams({ credential: acme.key }) });
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^__Host-palisade-session=v1\./);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect(cookie).not.toContain(acme.key);
    const user = await signIn(h, acme);
    const page = await user.get('/policies');
    expect(page.html).not.toContain(acme.key);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.html).not.toMatch(/<script>|<script(?![^>]*src=)[^>]*>/);
  });

  it('refuses a wrong key, a tampered cookie and cross-site posts', async () => {
    const bad = await h.app.request(`${ORIGIN}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, body: new URLSearchParams({ credential: 'psk_nope' }) });
    expect(bad.status).toBe(401);
    expect(await bad.text()).toContain('unknown, expired or revoked');
    const user = await signIn(h, acme);
    const tampered = user.cookie.slice(0, -3) + (user.cookie.endsWith('A') ? 'BBB' : 'AAA');
    expect((await h.app.request(`${ORIGIN}/policies`, { headers: { cookie: tampered } })).status).toBe(303);
    const noToken = await h.app.request(`${ORIGIN}/scopes/new`, { method: 'POST', headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=x' });
    expect(noToken.status).toBe(403);
    const crossSite = await user.post('/scopes/new', { name: 'x' }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    const crossLogin = await h.app.request(`${ORIGIN}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: new URLSearchParams({ credential: acme.key }) });
    expect(crossLogin.status).toBe(403);
  });
});

describe('runtime policy pages', () => {
  it('creates a policy through the form, placing validation errors at their fields', async () => {
    const user = await signIn(h, acme);
    const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    await acme.json('POST', '/v1/scopes', { name: 'registry-only', resources: [{ type: 'registry', registry: 'ghcr.io/acme' }] });
    const form = await user.get('/policies/new');
    expect(form.status).toBe(200);
    expect(form.html).toContain('>prod</option>');
    expect(form.html).not.toContain('registry-only');
    const fields: Array<[string, string]> = [
      ['name', 'web'],
      ['mode', 'enforce'],
      ['scopeIds', scope.body.id],
      ['enabled', 'true'],
      ['volumesBlocked.enabled', 'true'],
      ['volumesBlocked.paths', '/var/run\netc'],
      ['_action', 'save'],
    ];
    const invalid = await user.post('/policies/new', fields, { 'hx-request': 'true' });
    expect(invalid.status).toBe(422);
    expect(invalid.html).toMatch(/^<form id="policy-form"/);
    expect(fieldErrors(invalid.html, 'volumesBlocked.paths')).toContain('item 2: must begin with `/`');
    expect(invalid.html).toContain('aria-invalid="true"');
    const fixed = fields.map(([k, v]): [string, string] => [k, k === 'volumesBlocked.paths' ? '/var/run\n/etc' : v]);
    const saved = await user.post('/policies/new', fixed, { 'hx-request': 'true' });
    expect(saved.status).toBe(200);
    expect(saved.headers.get('hx-redirect')).toMatch(/^\/policies\?saved=/);
    const list = await acme.json('GET', '/v1/runtime-policies?name=web');
    expect(list.body.items[0]).toMatchObject({ name: 'web', mode: 'enforce', volumesBlocked: { enabled: true, paths: ['/var/run', '/etc'] } });
  });

  it('adds rows without saving, and shows a 412 conflict with the other change', async () => {
    const user = await signIn(h, acme);
    const scope = (await acme.json('GET', '/v1/scopes?name=prod')).body.items[0];
    const created = await acme.json('POST', '/v1/runtime-policies', { name: 'conflicted', mode: 'audit', scopeIds: [scope.id] });
    const edit = await user.get(`/policies/${created.body.id}`);
    const etag = /name="_etag" value="([^"]+)"/.exec(edit.html)![1]!.replaceAll('&quot;', '"');
    const added = await user.post(`/policies/${created.body.id}`, [['name', 'conflicted'], ['mode', 'audit'], ['scopeIds', scope.id], ['_etag', etag], ['_action', 'add:exclusions.items']], { 'hx-request': 'true' });
    expect(added.html).toContain('name="exclusions.items.0.name"');
    expect((await acme.json('GET', `/v1/runtime-policies/${created.body.id}`)).body.revision).toBe(1);
    await acme.json('PATCH', `/v1/runtime-policies/${created.body.id}`, { mode: 'enforce' });
    const stale = await user.post(`/policies/${created.body.id}`, [['name', 'conflicted'], ['mode', 'audit'], ['scopeIds', scope.id], ['enabled', 'true'], ['_etag', etag], ['_action', 'save']], { 'hx-request': 'true' });
    expect(stale.status).toBe(412);
    expect(stale.html).toContain('Someone else changed this policy');
    expect(stale.html).toMatch(/<code>\/mode<\/code>.*&quot;enforce&quot;.*&quot;audit&quot;/s);
    const over = /name="_overwrite" value="([^"]+)"/.exec(stale.html)![1]!.replaceAll('&quot;', '"');
    const overwritten = await user.post(`/policies/${created.body.id}`, [['name', 'conflicted'], ['mode', 'audit'], ['scopeIds', scope.id], ['enabled', 'true'], ['_etag', etag], ['_overwrite', over], ['_action', 'overwrite']], { 'hx-request': 'true' });
    expect(overwritten.headers.get('hx-redirect')).toMatch(/^\/policies/);
    const history = await user.get(`/policies/${created.body.id}/history`);
    expect(history.html).toContain('Revision 3: updated');
    expect(history.html).toContain('<code>/mode</code>');
  });

  it('toggles from the list and deletes after confirmation', async () => {
    const user = await signIn(h, acme);
    const p = (await acme.json('GET', '/v1/runtime-policies?name=web')).body.items[0];
    const row = await user.post(`/policies/${p.id}/toggle`, { enabled: 'false', _etag: `"${p.revision}"` }, { 'hx-request': 'true' });
    expect(row.html).toMatch(/^<tr id="policy-/);
    expect(row.html).toContain('aria-checked="false"');
    expect((await acme.json('GET', `/v1/runtime-policies/${p.id}`)).body.enabled).toBe(false);
    const confirm = await user.get(`/policies/${p.id}/delete`);
    expect(confirm.html).toContain('Delete policy');
    const etag = /name="_etag" value="([^"]+)"/.exec(confirm.html)![1]!.replaceAll('&quot;', '"');
    const gone = await user.post(`/policies/${p.id}/delete`, { _etag: etag });
    expect(gone.status).toBe(303);
    expect((await acme.json('GET', `/v1/runtime-policies/${p.id}`)).status).toBe(404);
  });

  it('says on the policy page and in the list which clusters do not enforce an enabled section', async () => {
    const user = await signIn(h, acme);
    const cluster = (await acme.json('POST', '/v1/clusters', { name: 'notice-eu1' })).body;
    const scope = (await acme.json('POST', '/v1/scopes', { name: 'notice-clusters', resources: [{ type: 'cluster', cluster: 'notice-*' }] })).body;
    const policy = (await acme.json('POST', '/v1/runtime-policies', { name: 'staging-registries', mode: 'enforce', scopeIds: [scope.id], registriesAllowed: { enabled: true, registries: ['ghcr.io/acme'] } })).body;
    // No agent of notice-eu1 has reported: it enforces nothing yet.
    expect(policy.enforcement.notEnforcedIn).toEqual([{ clusterId: cluster.id, clusterName: 'notice-eu1', sections: ['registriesAllowed'] }]);
    const page = await user.get(`/policies/${policy.id}`);
    expect(page.html).toContain('Not enforced everywhere');
    expect(page.html).toMatch(new RegExp(`<a href="/clusters/${cluster.id}">notice-eu1</a>: registriesAllowed`));
    const list = await user.get('/policies?name=staging-registries');
    expect(list.html).toContain('not enforced in 1 cluster<');
    const quiet = (await acme.json('POST', '/v1/runtime-policies', { name: 'staging-nothing', mode: 'audit', scopeIds: [scope.id] })).body;
    expect((await user.get(`/policies/${quiet.id}`)).html).not.toContain('Not enforced everywhere');
  });
});

describe('rights', () => {
  it('offers a developer neither navigation to API keys nor Add or Edit controls', async () => {
    const roles = (await acme.json('GET', '/v1/roles')).body.items;
    const key = await acme.json('POST', '/v1/api-keys', { name: 'dev', roleIds: [roles.find((r: { name: string }) => r.name === 'developer').id] });
    const user = await signIn(h, acme, key.body.secret);
    const list = await user.get('/policies');
    expect(list.html).not.toContain('href="/api-keys"');
    expect(list.html).not.toContain('Add policy');
    expect((await user.get('/policies/new')).status).toBe(403);
    const forced = await user.post('/policies/new', [['name', 'x'], ['mode', 'audit'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(forced.html).toContain('Forbidden');
    expect((await acme.json('GET', '/v1/runtime-policies?name=x')).body.items).toEqual([]);
  });
});

describe('other pages', () => {
  it('renders every page of the navigation for an administrator', async () => {
    const user = await signIn(h, acme);
    for (const path of ['/runtime-profiles', '/scopes', '/signature-validators', '/images', '/registries', '/clusters', '/settings/file-threat-protection', '/audit', '/webhooks', '/api-keys', '/roles', '/scopes/new', '/runtime-profiles/new', '/clusters/new', '/api-keys/new', '/images/new', '/registries/new', '/signature-validators/new', '/webhooks/new', '/roles/new']) {
      const res = await user.get(path);
      expect(res.status, path).toBe(200);
      expect(res.html, path).toContain('<main id="main"');
    }
  });

  it('file threat settings say which ones no agent applies, at their fields', async () => {
    const user = await signIn(h, acme);
    const html = (await user.get('/settings/file-threat-protection')).html;
    expect(html).toMatch(/id="[^"]*scanMode[^"]*-hint"[^>]*>Not applied: node agents scan files after they are written/);
    expect(html).toMatch(/id="[^"]*heuristicLevel[^"]*-hint"[^>]*>Not applied: detection is by signatures only/);
  });

  it('creates a scope with resource rows and a cluster, and mints an enrollment token', async () => {
    const user = await signIn(h, acme);
    const bad = await user.post('/scopes/new', [['name', 'staging'], ['resources.0.type', 'namespace'], ['resources.0.cluster', 'stage'], ['resources.0.namespace', 'Bad_NS'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(bad.status).toBe(422);
    expect(fieldErrors(bad.html, 'resources.0.namespace')).toContain('namespace');
    const ok = await user.post('/scopes/new', [['name', 'staging'], ['resources.0.type', 'namespace'], ['resources.0.cluster', 'stage'], ['resources.0.namespace', 'web'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(ok.headers.get('hx-redirect')).toBe('/scopes');
    await user.post('/clusters/new', [['name', 'stage-eu'], ['_action', 'save']]);
    const cluster = (await acme.json('GET', '/v1/clusters?name=stage-eu')).body.items[0];
    const token = await user.post(`/clusters/${cluster.id}/enrollment-token`, {}, { 'hx-request': 'true' });
    expect(token.html).toMatch(/value="pet_/);
    expect((await user.get(`/clusters/${cluster.id}/agent`)).html).toContain('No agent has reported yet');
    // What a cluster's agent enforces: the policies of its bundle (here the ones on scope prod, clusters prod-*).
    const prodCluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu1' });
    const agentPage = await user.get(`/clusters/${prodCluster.body.id}/agent`);
    expect(agentPage.html).toContain('What it enforces');
    expect(agentPage.html).toMatch(/conflicted \(revision \d+\)/);
  });
});

describe('attacks and assets', () => {
  it('escapes what users typed, and sends sign-in only to local paths', async () => {
    const user = await signIn(h, acme);
    const scope = (await acme.json('GET', '/v1/scopes?name=prod')).body.items[0];
    await acme.json('POST', '/v1/runtime-policies', { name: '<img src=x onerror=alert(1)>', mode: 'audit', scopeIds: [scope.id] });
    const list = await user.get('/policies');
    expect(list.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(list.html).not.toContain('<img src=x');
    for (const next of ['//evil.example/x', 'https://evil.example', '/\\evil.example']) {
      const res = await h.app.request(`${ORIGIN}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, body: new URLSearchParams({ credential: acme.key, next }) });
      expect(res.headers.get('location'), next).toBe('/policies');
    }
  });

  it('stops working once the key is revoked, and signing out clears the cookie', async () => {
    const roles = (await acme.json('GET', '/v1/roles')).body.items;
    const key = await acme.json('POST', '/v1/api-keys', { name: 'short-lived', roleIds: [roles.find((r: { name: string }) => r.name === 'auditor').id] });
    const user = await signIn(h, acme, key.body.secret);
    expect((await user.get('/policies')).status).toBe(200);
    await acme.json('POST', `/v1/api-keys/${key.body.apiKey.id}/revoke`);
    const after = await user.get('/policies');
    expect(after.status).toBe(303);
    expect(after.headers.get('set-cookie')).toMatch(/__Host-palisade-session=;/);
    const out = await user.post('/logout', {});
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });

  it('refuses an oversized form before reading it', async () => {
    const user = await signIn(h, acme);
    const res = await user.post('/scopes/new', { name: 'x'.repeat(300 * 1024) });
    expect(res.status).toBe(413);
  });

  it('serves the pinned htmx 2.x from node_modules unchanged', async () => {
    const { readFileSync } = await import('node:fs');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const pkg = JSON.parse(readFileSync(require.resolve('htmx.org/package.json'), 'utf8')) as { version: string };
    expect(pkg.version).toMatch(/^2\./);
    const vendored = readFileSync(new URL(`../../workers/console/static/assets/htmx-${pkg.version}.min.js`, import.meta.url), 'utf8');
    expect(vendored).toBe(readFileSync(require.resolve('htmx.org/dist/htmx.min.js'), 'utf8'));
  });
});

describe('webhooks and API keys', () => {
  it('creates a webhook through its form, showing the secret once, and revokes an API key', async () => {
    const user = await signIn(h, acme);
    const bad = await user.post('/webhooks/new', [['name', 'siem'], ['url', 'ftp://siem.example.com'], ['enabled', 'true'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(bad.status).toBe(422);
    expect(fieldErrors(bad.html, 'url')).toBeTruthy();
    const ok = await user.post('/webhooks/new', [['name', 'siem'], ['url', 'https://siem.example.com/hook'], ['enabled', 'true'], ['filters.verdicts', 'blocked'], ['_action', 'save']]);
    expect(ok.html).toMatch(/id="secret" readonly="" value="whsec_/);
    expect((await acme.json('GET', '/v1/webhooks?name=siem')).body.items[0]).toMatchObject({ filters: { verdicts: ['blocked'] } });
    const roles = (await acme.json('GET', '/v1/roles')).body.items;
    const key = await acme.json('POST', '/v1/api-keys', { name: 'ci', roleIds: [roles.find((r: { name: string }) => r.name === 'auditor').id] });
    expect((await user.get('/api-keys')).html).toContain(`href="/api-keys/${key.body.apiKey.id}/revoke"`);
    const revoked = await user.post(`/api-keys/${key.body.apiKey.id}/revoke`, {});
    expect(revoked.status).toBe(303);
    expect((await acme.json('GET', `/v1/api-keys/${key.body.apiKey.id}`)).body.revokedAt).not.toBeNull();
    expect((await user.get('/api-keys')).html).not.toContain(`href="/api-keys/${key.body.apiKey.id}/revoke"`);
  });
});

describe('registries, roles and signature validators', () => {
  it('offers only the rights the user holds, and saves through the forms', async () => {
    const limited = await acme.json('POST', '/v1/roles', { name: 'key-admin', rights: ['apiKeys.view', 'apiKeys.manage', 'roles.view', 'roles.manage'] });
    const key = await acme.json('POST', '/v1/api-keys', { name: 'key-admin', roleIds: [limited.body.id] });
    const user = await signIn(h, acme, key.body.secret);
    const form = await user.get('/roles/new');
    expect(form.html).toContain('value="apiKeys.manage"');
    expect(form.html).not.toContain('value="runtimePolicies.manage"');
    const escalate = await user.post('/roles/new', [['name', 'sneaky'], ['rights', 'runtimePolicies.manage'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(escalate.html).toContain('Forbidden');

    const admin = await signIn(h, acme);
    expect((await admin.post('/registries/new', [['name', 'ghcr'], ['url', 'ghcr.io/acme'], ['type', 'generic'], ['_action', 'save']])).status).toBe(303);
    const badKey = await admin.post('/signature-validators/new', [['name', 'cosign'], ['method', 'publicKey'], ['publicKey', 'not a key'], ['_action', 'save']], { 'hx-request': 'true' });
    expect(badKey.status).toBe(422);
    expect(fieldErrors(badKey.html, 'publicKey')).toContain('PEM public key');
    const keyless = await admin.post('/signature-validators/new', [['name', 'cosign'], ['method', 'keyless'], ['identities.0.issuer', 'https://token.actions.githubusercontent.com'], ['identities.0.subjectRegExp', '^https://github.com/acme/'], ['_action', 'save']]);
    expect(keyless.status).toBe(303);
    // The policy form offers both in its drop-downs.
    const policyForm = await admin.get('/policies/new');
    expect(policyForm.html).toContain('ghcr (ghcr.io/acme)');
    const withRule = await admin.post('/policies/new', [['name', ''], ['_action', 'add:imageContentProtection.rules']], { 'hx-request': 'true' });
    expect(withRule.html).toMatch(/name="imageContentProtection.rules.0.validatorId".*>cosign \(keyless\)<\/option>/s);
  });
});
