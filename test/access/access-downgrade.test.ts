import { describe, expect, it } from 'vitest';
import { BUILTIN_ROLES, RIGHTS } from '../../schema/rights.ts';
import { keyWithRights, keyWithRoles, type TenantClient } from '../support/harness.ts';
import { expectProblem, twoTenants } from '../support/resource-checks.ts';

const { h, acme } = await twoTenants();

const MERGE = { 'content-type': 'application/merge-patch+json' };

async function roleId(client: TenantClient, name: string): Promise<string> {
  const res = await client.json('GET', `/v1/roles?name=${encodeURIComponent(name)}`);
  return res.body.items[0].id;
}
async function keyId(client: TenantClient, name: string): Promise<string> {
  const res = await client.json('GET', `/v1/api-keys?name=${encodeURIComponent(name)}`);
  return res.body.items[0].id;
}
const works = async (client: TenantClient) => (await client.json('GET', '/v1/roles')).status === 200;

describe('a key manager cannot touch keys that hold more than it does', () => {
  it('refuses to downgrade, revoke, rename or delete a stronger key, and leaves it working', async () => {
    // It holds everything the developer role grants, so handing that role out is within its rights.
    const developerRights = BUILTIN_ROLES.find((r) => r.name === 'developer')!.rights;
    const manager = h.as(acme, await keyWithRights(acme, ['apiKeys.view', 'apiKeys.manage', 'roles.view', ...developerRights]));
    const adminRole = await roleId(acme, 'administrator');
    const developer = await roleId(acme, 'developer');
    const strong = await acme.json('POST', '/v1/api-keys', { name: 'strong', roleIds: [adminRole] });
    expect(strong.status).toBe(201);
    const id = strong.body.apiKey.id;

    expectProblem(await manager.json('PATCH', `/v1/api-keys/${id}`, { roleIds: [developer] }, MERGE), 403);
    expectProblem(await manager.json('PUT', `/v1/api-keys/${id}`, { name: 'strong', roleIds: [developer] }), 403);
    expectProblem(await manager.json('PATCH', `/v1/api-keys/${id}`, { name: 'renamed' }, MERGE), 403);
    expectProblem(await manager.json('POST', `/v1/api-keys/${id}/revoke`), 403);
    expectProblem(await manager.json('DELETE', `/v1/api-keys/${id}`), 403);
    const after = await acme.json('GET', `/v1/api-keys/${id}`);
    expect(after.body).toMatchObject({ name: 'strong', roleIds: [adminRole], revokedAt: null });
    expect(await works(h.as(acme, strong.body.secret))).toBe(true);

    // Keys within its own rights stay its to manage.
    const weak = await manager.json('POST', '/v1/api-keys', { name: 'weak', roleIds: [developer] });
    expect(weak.status).toBe(201);
    expect((await manager.json('PATCH', `/v1/api-keys/${weak.body.apiKey.id}`, { name: 'weak-2' }, MERGE)).status).toBe(200);
    expect((await manager.json('POST', `/v1/api-keys/${weak.body.apiKey.id}/revoke`)).status).toBe(200);
  });
});

describe('a role manager cannot rewrite or delete roles granting rights it lacks', () => {
  it('refuses to edit away or delete a role that grants more than it holds', async () => {
    const manager = h.as(acme, await keyWithRights(acme, ['roles.view', 'roles.manage', 'scopes.view']));
    const strong = await acme.json('POST', '/v1/roles', { name: 'auditors-plus', rights: ['audit.view', 'scopes.view'] });
    expect(strong.status).toBe(201);
    const id = strong.body.id;
    expectProblem(await manager.json('PATCH', `/v1/roles/${id}`, { rights: ['scopes.view'] }, MERGE), 403);
    expectProblem(await manager.json('PUT', `/v1/roles/${id}`, { name: 'auditors-plus', rights: ['scopes.view', 'audit.view', 'roles.view'] }), 403);
    expectProblem(await manager.json('PATCH', `/v1/roles/${id}`, { description: 'mine now' }, MERGE), 403);
    expectProblem(await manager.json('DELETE', `/v1/roles/${id}`), 403);
    expect((await acme.json('GET', `/v1/roles/${id}`)).body).toMatchObject({ rights: ['audit.view', 'scopes.view'] });

    const own = await manager.json('POST', '/v1/roles', { name: 'scope-readers', rights: ['scopes.view'] });
    expect((await manager.json('PATCH', `/v1/roles/${own.body.id}`, { description: 'fine' }, MERGE)).status).toBe(200);
    expect((await manager.request('DELETE', `/v1/roles/${own.body.id}`)).status).toBe(204);
  });
});

describe('the last administrator', () => {
  it('cannot be revoked, deleted or downgraded, directly or by cutting its role; once another exists it can', async () => {
    const t = await h.tenant('solo');
    const adminKeyId = await keyId(t, 'initial administrator key');
    const auditor = await roleId(t, 'auditor');
    const adminRole = await roleId(t, 'administrator');
    for (const [method, path, body] of [
      ['POST', `/v1/api-keys/${adminKeyId}/revoke`, undefined],
      ['DELETE', `/v1/api-keys/${adminKeyId}`, undefined],
      ['PATCH', `/v1/api-keys/${adminKeyId}`, { roleIds: [auditor] }],
    ] as const) {
      const res = await t.json(method, path, body, body ? MERGE : {});
      expectProblem(res, 409);
      expect(res.body.detail).toMatch(/last administrator/);
    }
    expect(await works(t)).toBe(true);

    // A custom role holding every right counts as an administrator too, and cannot be cut down while it is the last.
    const full = await t.json('POST', '/v1/roles', { name: 'everything', rights: [...RIGHTS] });
    const second = h.as(t, await keyWithRoles(t, ['everything']));
    expect((await second.json('POST', `/v1/api-keys/${adminKeyId}/revoke`)).status).toBe(200);
    expect(await works(t)).toBe(false);
    const cut = await second.json('PATCH', `/v1/roles/${full.body.id}`, { rights: RIGHTS.filter((r) => r !== 'audit.manage') }, MERGE);
    expectProblem(cut, 409);
    const mine = await keyId(second, (await second.json('GET', '/v1/api-keys')).body.items.find((k: { revokedAt: string | null }) => k.revokedAt === null).name);
    expectProblem(await second.json('POST', `/v1/api-keys/${mine}/revoke`), 409);
    expect(await works(second)).toBe(true);
    // With a new administrator in place, the old one may go.
    const third = await second.json('POST', '/v1/api-keys', { name: 'third', roleIds: [adminRole] });
    expect(third.status).toBe(201);
    expect((await second.json('POST', `/v1/api-keys/${mine}/revoke`)).status).toBe(200);
    expect(await works(h.as(t, third.body.secret))).toBe(true);
  });
});
