import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_ROLES } from '../../schema/rights.ts';
import { oidcVerifier } from '../../workers/auth/oidc.ts';
import { sha256Hex } from '../../workers/ids.ts';
import { harness, keyWithRights, keyWithRoles, OPERATOR_KEY, type TenantClient } from '../support/harness.ts';
import { expectProblem, twoTenants } from '../support/resource-checks.ts';

const { database, h, acme, globex } = await twoTenants();

const SECRET_FORMAT = /^psk_[A-Za-z0-9]{8}_[A-Za-z0-9_-]{43}$/;
const HOUR = 3_600_000;

function expectUnauthorized(res: { status: number; headers: Headers; body: any }) {
  expectProblem(res, 401);
  expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="palisade"/);
}

async function provision(name: string, authorization?: string, app = h.app) {
  const res = await app.request('/v1/tenants', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ name }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function roleId(client: TenantClient, name: string): Promise<string> {
  const res = await client.json('GET', `/v1/roles?name=${encodeURIComponent(name)}`);
  const role = res.body.items[0];
  if (!role) throw new Error(`no role ${name}`);
  return role.id;
}

describe('POST /v1/tenants', () => {
  it('provisions a tenant with the operator key and answers its first administrator key', async () => {
    const res = await provision('initech', `Bearer ${OPERATOR_KEY}`);
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ tenant: { id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'initech' }, apiKey: expect.stringMatching(SECRET_FORMAT) });
    expect(res.headers.get('location')).toBe(`/v1/tenants/${res.body.tenant.id}`);
    const admin = h.as({ id: res.body.tenant.id, name: 'initech' } as TenantClient, res.body.apiKey);
    const roles = await admin.json('GET', '/v1/roles');
    expect(roles.status).toBe(200);
    expect(roles.body.items.map((r: { name: string }) => r.name).sort()).toEqual(BUILTIN_ROLES.map((r) => r.name).sort());
    const keys = await admin.json('GET', '/v1/api-keys');
    expect(keys.body.items).toEqual([expect.objectContaining({ name: 'initial administrator key', createdBy: 'operator' })]);
    const scopes = await admin.json('GET', '/v1/scopes');
    expect(scopes.body.items).toEqual([expect.objectContaining({ name: 'global', global: true })]);
  });

  it('answers 401 without the operator key', async () => {
    for (const authorization of [undefined, 'Bearer wrong-key', `Bearer ${OPERATOR_KEY}x`, `Basic ${btoa(`operator:${OPERATOR_KEY}`)}`, OPERATOR_KEY, `Bearer ${acme.key}`]) {
      expectUnauthorized(await provision('intruder', authorization));
    }
    const off = harness(database, { config: { operatorKey: undefined } });
    expectUnauthorized(await provision('intruder', `Bearer ${OPERATOR_KEY}`, off.app));
    // None of the refused attempts created the tenant.
    expect((await provision('intruder', `Bearer ${OPERATOR_KEY}`)).status).toBe(201);
  });

  it('answers 409 for a taken tenant name and 422 for an invalid one', async () => {
    const dup = await provision('acme', `Bearer ${OPERATOR_KEY}`);
    expectProblem(dup, 409);
    expect(dup.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
    for (const name of ['Acme', 'has space', '', '-acme', 'a'.repeat(64)]) {
      const res = await provision(name, `Bearer ${OPERATOR_KEY}`);
      expectProblem(res, 422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer), name).toEqual(['/name']);
    }
  });
});

describe('authentication', () => {
  it('answers 401 with problem+json and WWW-Authenticate for missing or garbage credentials', async () => {
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: '' },
      { authorization: 'Bearer' },
      { authorization: 'Bearer garbage' },
      { authorization: `Basic ${btoa('admin:admin')}` },
      { authorization: `Token ${acme.key}` },
      { authorization: `Bearer ${acme.key.slice(0, -1)}x` },
      { authorization: `Bearer psk_AAAAAAAA_${'A'.repeat(43)}` },
      { authorization: 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.' },
      { authorization: `Bearer ${'x'.repeat(10_000)}` },
    ];
    for (const path of ['/v1/scopes', '/v1/runtime-policies', '/v1/roles', '/v1/api-keys']) {
      for (const headers of attempts) {
        const res = await h.app.request(path, { headers });
        const body = await res.json();
        expectUnauthorized({ status: res.status, headers: res.headers, body });
      }
    }
    expectUnauthorized(await h.as(acme, 'garbage').json('POST', '/v1/scopes', { name: 'x', resources: [{ type: 'cluster', cluster: 'x' }] }));
    expect((await acme.json('GET', '/v1/scopes?name=x')).body.items).toEqual([]);
  });
});

describe('/v1/roles', () => {
  it('lists the built-in roles, which cannot change', async () => {
    const res = await acme.json('GET', '/v1/roles?builtin=true');
    expect(res.status).toBe(200);
    const byName = new Map(res.body.items.map((r: { name: string }) => [r.name, r]));
    expect([...byName.keys()].sort()).toEqual(['administrator', 'auditor', 'developer', 'information-security-administrator', 'security-officer']);
    for (const builtin of BUILTIN_ROLES) {
      const role = byName.get(builtin.name) as { id: string; rights: string[]; builtin: boolean };
      expect(role).toMatchObject({ builtin: true, description: builtin.description });
      expect([...role.rights].sort()).toEqual([...builtin.rights].sort());
      for (const [method, body] of [['PUT', { name: builtin.name, rights: ['scopes.view'] }], ['PATCH', { rights: ['scopes.view'] }], ['DELETE', undefined]] as const) {
        const change = await acme.json(method, `/v1/roles/${role.id}`, body);
        expectProblem(change, 409);
      }
    }
    const after = await acme.json('GET', '/v1/roles?builtin=true');
    expect(after.body).toEqual(res.body);
    expect((await acme.json('GET', '/v1/roles?builtin=false')).body.items).toEqual([]);
  });

  it('runs the custom role cycle; rights take effect on the next request', async () => {
    const created = await acme.json('POST', '/v1/roles', { name: 'scope-reader', description: 'reads scopes', rights: ['scopes.view'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'scope-reader', rights: ['scopes.view'], builtin: false });
    const holder = h.as(acme, await keyWithRoles(acme, ['scope-reader']));
    expect((await holder.json('GET', '/v1/scopes')).status).toBe(200);
    expectProblem(await holder.json('GET', '/v1/clusters'), 403);

    const patched = await acme.json('PATCH', `/v1/roles/${created.body.id}`, { rights: ['scopes.view', 'clusters.view'] });
    expect(patched.status).toBe(200);
    expect((await holder.json('GET', '/v1/clusters')).status).toBe(200);

    const dup = await acme.json('POST', '/v1/roles', { name: 'scope-reader', rights: ['scopes.view'] });
    expectProblem(dup, 409);
    const dupBuiltin = await acme.json('POST', '/v1/roles', { name: 'administrator', rights: ['scopes.view'] });
    expectProblem(dupBuiltin, 409);
    // Same name in another tenant is fine.
    expect((await globex.json('POST', '/v1/roles', { name: 'scope-reader', rights: ['scopes.view'] })).status).toBe(201);
    expectProblem(await globex.json('GET', `/v1/roles/${created.body.id}`), 404);
    expectProblem(await globex.json('DELETE', `/v1/roles/${created.body.id}`), 404);
  });

  it('refuses unknown rights with a pointer', async () => {
    const res = await acme.json('POST', '/v1/roles', { name: 'bad', rights: ['scopes.view', 'scopes.destroy', 'root'] });
    expectProblem(res, 422);
    expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/rights/1', '/rights/2']);
    expectProblem(await acme.json('POST', '/v1/roles', { name: 'empty', rights: [] }), 422);
    expectProblem(await acme.json('POST', '/v1/roles', { name: 'no-rights' }), 422);
    expect((await acme.json('GET', '/v1/roles?name=bad')).body.items).toEqual([]);
  });

  it('refuses to delete a role that an API key holds, naming the keys', async () => {
    await acme.json('POST', '/v1/roles', { name: 'held', rights: ['images.view'] });
    const id = await roleId(acme, 'held');
    const key = await acme.json('POST', '/v1/api-keys', { name: 'holder-of-held', roleIds: [id] });
    const res = await acme.json('DELETE', `/v1/roles/${id}`);
    expectProblem(res, 409);
    expect(res.body.apiKeys).toEqual([{ id: key.body.apiKey.id, name: 'holder-of-held' }]);
    expect(res.body.detail).toMatch(/holder-of-held/);
    expect((await acme.request('DELETE', `/v1/api-keys/${key.body.apiKey.id}`)).status).toBe(204);
    expect((await acme.request('DELETE', `/v1/roles/${id}`)).status).toBe(204);
    expectProblem(await acme.json('GET', `/v1/roles/${id}`), 404);
  });

  it('lets no one grant rights they do not hold', async () => {
    const delegate = h.as(acme, await keyWithRights(acme, ['roles.view', 'roles.manage', 'apiKeys.view', 'apiKeys.manage', 'scopes.view']));
    const ok = await delegate.json('POST', '/v1/roles', { name: 'delegated', rights: ['scopes.view'] });
    expect(ok.status).toBe(201);
    const more = await delegate.json('POST', '/v1/roles', { name: 'escalated', rights: ['scopes.view', 'scopes.manage', 'runtimePolicies.manage'] });
    expectProblem(more, 403);
    expect(more.body.missingRights).toEqual(['scopes.manage', 'runtimePolicies.manage']);
    expectProblem(await delegate.json('PATCH', `/v1/roles/${ok.body.id}`, { rights: ['scopes.view', 'scopes.viewGlobal'] }), 403);
    expect((await acme.json('GET', `/v1/roles/${ok.body.id}`)).body.rights).toEqual(['scopes.view']);

    // Nor through API keys holding roles with more rights.
    const adminRole = await roleId(acme, 'administrator');
    const key = await delegate.json('POST', '/v1/api-keys', { name: 'sneaky', roleIds: [adminRole] });
    expectProblem(key, 403);
    expect(key.body.missingRights).toContain('runtimePolicies.manage');
    const own = await delegate.json('POST', '/v1/api-keys', { name: 'fine', roleIds: [ok.body.id] });
    expect(own.status).toBe(201);
    expectProblem(await delegate.json('PATCH', `/v1/api-keys/${own.body.apiKey.id}`, { roleIds: [ok.body.id, adminRole] }), 403);
    expect((await acme.json('GET', '/v1/api-keys?name=sneaky')).body.items).toEqual([]);

    const reader = h.as(acme, await keyWithRights(acme, ['roles.view']));
    expectProblem(await reader.json('POST', '/v1/roles', { name: 'x', rights: ['roles.view'] }), 403);
    expect((await reader.json('GET', '/v1/roles')).status).toBe(200);
    expectProblem(await reader.json('GET', '/v1/api-keys'), 403);
  });
});

describe('/v1/api-keys', () => {
  it('shows the secret once and keeps only its hash', async () => {
    const auditor = await roleId(acme, 'auditor');
    const created = await acme.json('POST', '/v1/api-keys', { name: 'ci-reader', roleIds: [auditor] });
    expect(created.status).toBe(201);
    const { secret, apiKey } = created.body;
    expect(secret).toMatch(SECRET_FORMAT);
    expect(apiKey).toEqual({
      id: expect.any(String),
      name: 'ci-reader',
      roleIds: [auditor],
      lastUsedAt: null,
      revokedAt: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      createdBy: expect.stringMatching(/^apiKey:[0-9a-f-]{36}$/),
      updatedBy: expect.stringMatching(/^apiKey:[0-9a-f-]{36}$/),
    });
    expect(created.headers.get('location')).toBe(`/v1/api-keys/${apiKey.id}`);
    const hidden = secret.slice(13);

    const got = await acme.json('GET', `/v1/api-keys/${apiKey.id}`);
    const list = await acme.json('GET', '/v1/api-keys');
    const patched = await acme.json('PATCH', `/v1/api-keys/${apiKey.id}`, { name: 'ci-reader-2' });
    for (const res of [got, list, patched]) {
      expect(res.status).toBe(200);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(hidden);
      expect(text).not.toContain('secret');
      expect(text).not.toMatch(/keyHash|key_hash/);
    }
    expect(got.body).not.toHaveProperty('prefix');

    const rows = await database.client.query<Record<string, unknown>>('select * from api_keys');
    expect(rows.rows.length).toBeGreaterThan(2);
    const stored = JSON.stringify(rows.rows);
    expect(stored).not.toContain(hidden);
    const row = rows.rows.find((r) => r.id === apiKey.id)!;
    expect(row.key_hash).toBe(await sha256Hex(secret));
    expect(row).not.toHaveProperty('prefix');
    // Every tenant's keys, including the ones provisioning minted, are hashes only.
    for (const key of [acme.key, globex.key]) expect(stored).not.toContain(key.slice(13));

    const client = h.as(acme, secret);
    expect((await client.json('GET', '/v1/runtime-policies')).status).toBe(200);
    expectProblem(await client.json('POST', '/v1/scopes', { name: 'x', resources: [{ type: 'cluster', cluster: 'x' }] }), 403);
  });

  it('refuses unknown roles and expiry in the past', async () => {
    const auditor = await roleId(acme, 'auditor');
    const globexRole = await roleId(globex, 'auditor');
    const unknown = await acme.json('POST', '/v1/api-keys', { name: 'k', roleIds: [auditor, globexRole] });
    expectProblem(unknown, 422);
    expect(unknown.body.errors).toEqual([{ pointer: '/roleIds/1', detail: expect.stringContaining(globexRole) }]);
    for (const expiresAt of [new Date(Date.now() - 60_000).toISOString(), '2001-01-01T00:00:00Z', '0001-01-01T00:00:00Z']) {
      const past = await acme.json('POST', '/v1/api-keys', { name: 'k', roleIds: [auditor], expiresAt });
      expectProblem(past, 422);
      expect(past.body.errors).toEqual([{ pointer: '/expiresAt', detail: expect.any(String) }]);
    }
    const invalid = await acme.json('POST', '/v1/api-keys', { name: 'k', roleIds: [auditor], expiresAt: 'next week' });
    expectProblem(invalid, 422);
    expectProblem(await acme.json('POST', '/v1/api-keys', { name: 'k', roleIds: [] }), 422);
    expect((await acme.json('GET', '/v1/api-keys?name=k')).body.items).toEqual([]);
  });

  it('accepts role ids written in upper case', async () => {
    const role = await acme.json('POST', '/v1/roles', { name: 'upper-case', rights: ['scopes.view'] });
    const res = await acme.json('POST', '/v1/api-keys', { name: 'upper-case-role', roleIds: [role.body.id.toUpperCase()] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.apiKey.roleIds).toEqual([role.body.id]);
    expect((await h.as(acme, res.body.secret).json('GET', '/v1/scopes')).status).toBe(200);
    // The role is known to be held.
    const held = await acme.json('DELETE', `/v1/roles/${role.body.id}`);
    expectProblem(held, 409);
    expect(held.body.apiKeys).toEqual([{ id: res.body.apiKey.id, name: 'upper-case-role' }]);
  });

  it('accepts an expiry with any valid UTC offset', async () => {
    const auditor = await roleId(acme, 'auditor');
    const year = new Date().getUTCFullYear() + 1;
    for (const [name, expiresAt] of [['offset-east', `${year}-06-01T00:00:00+23:59`], ['offset-west', `${year}-06-01T00:00:00-23:30`], ['offset-z', `${year}-06-01T00:00:00.5Z`], ['last-minute', '9999-12-31T23:59:00-23:59']] as const) {
      const res = await acme.json('POST', '/v1/api-keys', { name, roleIds: [auditor], expiresAt });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(Date.parse(res.body.apiKey.expiresAt)).toBe(Date.parse(expiresAt));
      expect((await h.as(acme, res.body.secret).json('GET', '/v1/scopes')).status).toBe(200);
    }
  });

  it('stops an expired key (401)', async () => {
    const auditor = await roleId(acme, 'auditor');
    const expiresAt = new Date(Date.now() + HOUR).toISOString();
    const created = await acme.json('POST', '/v1/api-keys', { name: 'short-lived', roleIds: [auditor], expiresAt });
    expect(created.status).toBe(201);
    expect(created.body.apiKey.expiresAt).toBe(expiresAt);
    expect((await h.as(acme, created.body.secret).json('GET', '/v1/scopes')).status).toBe(200);

    const later = harness(database, { now: () => new Date(Date.now() + 2 * HOUR) });
    expectUnauthorized(await later.as(acme, created.body.secret).json('GET', '/v1/scopes'));
    // Keys without expiry still work at that time.
    expect((await later.as(acme, acme.key).json('GET', '/v1/scopes')).status).toBe(200);

    // Moving the expiry into the past is refused as well.
    const moved = await acme.json('PATCH', `/v1/api-keys/${created.body.apiKey.id}`, { expiresAt: '2001-01-01T00:00:00Z' });
    expectProblem(moved, 422);
    expect(moved.body.errors).toEqual([{ pointer: '/expiresAt', detail: expect.any(String) }]);
    // Extending it keeps the key alive later on.
    const extended = await acme.json('PATCH', `/v1/api-keys/${created.body.apiKey.id}`, { expiresAt: new Date(Date.now() + 3 * HOUR).toISOString() });
    expect(extended.status).toBe(200);
    expect((await later.as(acme, created.body.secret).json('GET', '/v1/scopes')).status).toBe(200);
  });

  it('revokes a key: 401 afterwards, the record stays', async () => {
    const auditor = await roleId(acme, 'auditor');
    const created = await acme.json('POST', '/v1/api-keys', { name: 'to-revoke', roleIds: [auditor] });
    const client = h.as(acme, created.body.secret);
    expect((await client.json('GET', '/v1/scopes')).status).toBe(200);

    const revoked = await acme.json('POST', `/v1/api-keys/${created.body.apiKey.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    expectUnauthorized(await client.json('GET', '/v1/scopes'));
    expectUnauthorized(await client.json('GET', '/v1/api-keys'));

    const again = await acme.json('POST', `/v1/api-keys/${created.body.apiKey.id}/revoke`);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
    expect((await acme.json('GET', `/v1/api-keys/${created.body.apiKey.id}`)).body).toMatchObject({ name: 'to-revoke', revokedAt: revoked.body.revokedAt });

    expectProblem(await globex.json('POST', `/v1/api-keys/${created.body.apiKey.id}/revoke`), 404);
    expectProblem(await globex.json('GET', `/v1/api-keys/${created.body.apiKey.id}`), 404);
    const viewer = h.as(acme, await keyWithRights(acme, ['apiKeys.view']));
    expectProblem(await viewer.json('POST', `/v1/api-keys/${created.body.apiKey.id}/revoke`), 403);
    // A revoked administrator key locks its holder out too.
    const adminRole = await roleId(acme, 'administrator');
    const admin2 = await acme.json('POST', '/v1/api-keys', { name: 'second-admin', roleIds: [adminRole] });
    const second = h.as(acme, admin2.body.secret);
    expect((await second.json('POST', `/v1/api-keys/${admin2.body.apiKey.id}/revoke`)).status).toBe(200);
    expectUnauthorized(await second.json('GET', '/v1/api-keys'));
  });

  it('records when a key was last used', async () => {
    const auditor = await roleId(acme, 'auditor');
    const created = await acme.json('POST', '/v1/api-keys', { name: 'used-later', roleIds: [auditor] });
    const id = created.body.apiKey.id;
    expect((await acme.json('GET', `/v1/api-keys/${id}`)).body.lastUsedAt).toBeNull();
    const before = Date.now();
    expect((await h.as(acme, created.body.secret).json('GET', '/v1/scopes')).status).toBe(200);
    const after = await acme.json('GET', `/v1/api-keys/${id}`);
    const at = Date.parse(after.body.lastUsedAt);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    // The admin key's own use shows as well.
    const keys = await acme.json('GET', '/v1/api-keys?name=initial*');
    expect(keys.body.items[0].lastUsedAt).toEqual(expect.any(String));
  });
});

describe('OIDC bearer tokens', () => {
  const issuer = 'https://idp.example.com/realms/palisade';
  const audience = 'palisade-api';
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;
  let oidc: ReturnType<typeof harness>;

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256');
    privateKey = pair.privateKey as CryptoKey;
    otherKey = (await generateKeyPair('ES256')).privateKey as CryptoKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    oidc = harness(database, {
      oidc: oidcVerifier({ issuer, audience, tenantClaim: 'palisade_tenant', rolesClaim: 'palisade_roles' }, createLocalJWKSet({ keys: [jwk] })),
    });
  });

  interface TokenOptions {
    tenant?: string;
    roles?: unknown;
    sub?: string;
    iss?: string;
    aud?: string;
    exp?: number;
    key?: CryptoKey;
    kid?: string;
  }
  function token(o: TokenOptions = {}): Promise<string> {
    const claims: Record<string, unknown> = { palisade_tenant: o.tenant ?? acme.id };
    if (o.roles !== undefined) claims.palisade_roles = o.roles;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: o.kid ?? 'k1' })
      .setIssuer(o.iss ?? issuer)
      .setAudience(o.aud ?? audience)
      .setSubject(o.sub ?? 'alice')
      .setIssuedAt()
      .setExpirationTime(o.exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(o.key ?? privateKey);
  }
  const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('maps the tenant and role claims to rights', async () => {
    const auditor = oidc.as(acme, await token({ roles: ['auditor'] }));
    expect((await auditor.json('GET', '/v1/scopes')).status).toBe(200);
    expect((await auditor.json('GET', '/v1/roles')).status).toBe(200);
    const denied = await auditor.json('POST', '/v1/scopes', { name: 'oidc', resources: [{ type: 'cluster', cluster: 'oidc' }] });
    expectProblem(denied, 403);

    const admin = oidc.as(acme, await token({ roles: 'developer information-security-administrator', sub: 'bob@example.com' }));
    const created = await admin.json('POST', '/v1/scopes', { name: 'oidc', resources: [{ type: 'cluster', cluster: 'oidc' }] });
    expect(created.status).toBe(201);
    expect(created.body.createdBy).toBe('oidc:bob@example.com');

    await acme.json('POST', '/v1/roles', { name: 'cluster-reader', rights: ['clusters.view'] });
    const custom = oidc.as(acme, await token({ roles: ['cluster-reader', 'no-such-role'] }));
    expect((await custom.json('GET', '/v1/clusters')).status).toBe(200);
    expectProblem(await custom.json('GET', '/v1/scopes'), 403);

    const none = oidc.as(acme, await token({}));
    expectProblem(await none.json('GET', '/v1/scopes'), 403);
    // API keys keep working next to OIDC.
    expect((await oidc.as(acme, acme.key).json('GET', '/v1/scopes')).status).toBe(200);
  });

  it('answers 401 for tokens it must not trust', async () => {
    const now = Math.floor(Date.now() / 1000);
    const valid = await token({ roles: ['administrator'] });
    const [header, payload] = valid.split('.');
    const tokens: Record<string, string> = {
      'wrong issuer': await token({ roles: ['administrator'], iss: 'https://evil.example.com' }),
      'wrong audience': await token({ roles: ['administrator'], aud: 'other-api' }),
      expired: await token({ roles: ['administrator'], exp: now - 600 }),
      'unknown key id': await token({ roles: ['administrator'], kid: 'k2', key: otherKey }),
      'known key id, other key': await token({ roles: ['administrator'], key: otherKey }),
      'alg none': `${b64url({ alg: 'none', kid: 'k1' })}.${payload}.`,
      'alg none with signature kept': `${b64url({ alg: 'none', kid: 'k1' })}.${payload}.${valid.split('.')[2]}`,
      'tampered payload': `${header}.${b64url({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), palisade_roles: ['administrator'], sub: 'mallory' })}.${valid.split('.')[2]}`,
      'HS256 with the public key': `${b64url({ alg: 'HS256', kid: 'k1' })}.${payload}.${'A'.repeat(43)}`,
      'tenant not a UUID': await token({ roles: ['administrator'], tenant: 'acme' }),
      'unknown tenant': await token({ roles: ['administrator'], tenant: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' }),
      'signature stripped': `${header}.${payload}.`,
    };
    for (const [what, jwt] of Object.entries(tokens)) {
      const res = await oidc.as(acme, jwt).json('GET', '/v1/scopes');
      expect(res.status, what).toBe(401);
      expectUnauthorized(res);
    }
    // Without OIDC configured, a valid token is just an unknown credential.
    expectUnauthorized(await h.as(acme, valid).json('GET', '/v1/scopes'));
    expect((await oidc.as(acme, valid).json('GET', '/v1/scopes')).status).toBe(200);
  });

  it('keeps a token inside its tenant', async () => {
    const scope = await globex.json('POST', '/v1/scopes', { name: 'globex-secret', resources: [{ type: 'cluster', cluster: 'g' }] });
    const acmeAdmin = oidc.as(globex, await token({ tenant: acme.id, roles: ['administrator'] }));
    for (const [method, body] of [['GET'], ['PATCH', { description: 'x' }], ['DELETE']] as const) {
      expectProblem(await acmeAdmin.json(method, `/v1/scopes/${scope.body.id}`, body), 404);
    }
    const names = (await acmeAdmin.json('GET', '/v1/scopes')).body.items.map((s: { name: string }) => s.name);
    expect(names).not.toContain('globex-secret');
    const globexAdmin = oidc.as(globex, await token({ tenant: globex.id, roles: ['administrator'] }));
    expect((await globexAdmin.json('GET', `/v1/scopes/${scope.body.id}`)).body.description).toBeUndefined();
    expect((await globexAdmin.json('GET', `/v1/scopes/${scope.body.id}`)).status).toBe(200);
  });
});
