import { describe, expect, it } from 'vitest';
import type { TenantClient } from '../support/harness.ts';
import { expectCreated, expectHiddenFromOtherTenant, expectStaleRefused, expectViewOnly, mustCreate, names, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();


const webServer = {
  name: 'web-server',
  description: 'nginx front end',
  executables: {
    enabled: true,
    mode: 'allowListedOnly',
    executables: [{ path: '/usr/sbin/nginx' }, { path: '/usr/local/bin/*' }, { regex: '^/opt/app/bin/[a-z]+$' }],
    exclusions: [{ path: '/usr/local/bin/debug' }],
  },
  ingress: { enabled: true, allowed: [{ cidr: '10.0.0.0/8', ports: ['80', '443'], protocol: 'TCP' }, { cidr: 'fd00::/8' }] },
  egress: {
    enabled: true,
    allowed: [{ fqdn: '*.amazonaws.com', ports: ['443'] }, { fqdn: 'db.internal.example', ports: ['5432', '6000-6010'], protocol: 'TCP' }, { cidr: '192.168.1.0/24', protocol: 'UDP' }],
  },
  fileThreatProtection: { enabled: true },
};

/** The stored document: server defaults filled in. */
const webServerStored = {
  ...webServer,
  ingress: { enabled: true, allowed: [{ cidr: '10.0.0.0/8', ports: ['80', '443'], protocol: 'TCP' }, { cidr: 'fd00::/8', protocol: 'any' }] },
  egress: {
    enabled: true,
    allowed: [
      { fqdn: '*.amazonaws.com', ports: ['443'], protocol: 'any' },
      { fqdn: 'db.internal.example', ports: ['5432', '6000-6010'], protocol: 'TCP' },
      { cidr: '192.168.1.0/24', protocol: 'UDP' },
    ],
  },
};

const createProfile = (client: TenantClient, body: Record<string, unknown>) => mustCreate(client, '/v1/runtime-profiles', body);

describe('/v1/runtime-profiles', () => {
  it('runs the CRUD cycle with ETags', async () => {
    const created = await expectCreated(acme, '/v1/runtime-profiles', webServer, webServerStored);
    const id = created.body.id as string;

    // PUT replaces: everything not sent falls back to the defaults (all restrictions off).
    const put = await acme.json('PUT', `/v1/runtime-profiles/${id}`, { name: 'web-server', executables: { enabled: true, executables: [{ path: '/bin/sh' }] } }, { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body).toEqual({
      ...created.body,
      description: undefined,
      executables: { enabled: true, mode: 'blockListed', executables: [{ path: '/bin/sh' }], exclusions: [] },
      ingress: { enabled: false, allowed: [] },
      egress: { enabled: false, allowed: [] },
      fileThreatProtection: { enabled: false },
      updatedAt: expect.any(String),
    });
    expect(put.body).not.toHaveProperty('description');

    // Merge patch: nested objects merge, arrays are replaced whole.
    const patched = await acme.json(
      'PATCH',
      `/v1/runtime-profiles/${id}`,
      { executables: { mode: 'allowListedOnly', exclusions: [{ regex: '^/bin/(ba)?sh$' }] }, egress: { enabled: true, allowed: [{ fqdn: 'api.example.com' }] }, fileThreatProtection: { enabled: true } },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
    expect(patched.body).toMatchObject({
      name: 'web-server',
      executables: { enabled: true, mode: 'allowListedOnly', executables: [{ path: '/bin/sh' }], exclusions: [{ regex: '^/bin/(ba)?sh$' }] },
      ingress: { enabled: false, allowed: [] },
      egress: { enabled: true, allowed: [{ fqdn: 'api.example.com', protocol: 'any' }] },
      fileThreatProtection: { enabled: true },
    });

    const turnedOff = await acme.json('PATCH', `/v1/runtime-profiles/${id}`, { executables: { enabled: false }, fileThreatProtection: null });
    expect(turnedOff.status).toBe(200);
    // A restriction switched off keeps its settings; a removed section comes back as its default.
    expect(turnedOff.body.executables).toEqual({ enabled: false, mode: 'allowListedOnly', executables: [{ path: '/bin/sh' }], exclusions: [{ regex: '^/bin/(ba)?sh$' }] });
    expect(turnedOff.body.fileThreatProtection).toEqual({ enabled: false });

    expect((await acme.request('DELETE', `/v1/runtime-profiles/${id}`)).status).toBe(204);
    const gone = await acme.json('GET', `/v1/runtime-profiles/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe(PROBLEM);
  });

  it('stores a minimal profile with every restriction off', async () => {
    const created = await acme.json('POST', '/v1/runtime-profiles', { name: 'minimal' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'minimal',
      executables: { enabled: false, mode: 'blockListed', executables: [], exclusions: [] },
      ingress: { enabled: false, allowed: [] },
      egress: { enabled: false, allowed: [] },
      fileThreatProtection: { enabled: false },
    });
  });

  it('accepts the network peer forms', async () => {
    const allowed = [
      { cidr: '0.0.0.0/0' },
      { cidr: '10.1.2.0/24', ports: ['1', '65535', '1-65535'], protocol: 'SCTP' },
      { cidr: '2001:db8::/32', protocol: 'UDP' },
      { fqdn: 'example.com' },
      { fqdn: '*.svc.cluster.local', ports: ['8000-8080'], protocol: 'TCP' },
      { fqdn: 'localhost', protocol: 'any' },
    ];
    const created = await acme.json('POST', '/v1/runtime-profiles', { name: 'peers', ingress: { enabled: true, allowed }, egress: { enabled: true, allowed } });
    expect(created.status).toBe(201);
    expect(created.body.egress.allowed).toEqual(allowed.map((p) => ({ protocol: 'any', ...p })));
  });

  it('rejects invalid profiles with a pointer per field', async () => {
    const res = await acme.json('POST', '/v1/runtime-profiles', {
      name: ' padded',
      executables: {
        enabled: 'yes',
        mode: 'denyAll',
        executables: [{ path: 'usr/bin/curl' }, { regex: '(unclosed' }, { path: '/' }, { glob: '/bin/*' }],
        exclusions: [{ path: '/bin/sh', regex: '^/bin/sh$' }],
      },
      ingress: { enabled: true, allowed: [{ cidr: '10.0.0.0/33' }, { cidr: '10.0.0.0/8', ports: ['0'] }, { cidr: '10.0.0.0/8', ports: ['8080-80'] }, { cidr: '10.0.0.0/8', ports: ['http'] }] },
      egress: {
        enabled: true,
        allowed: [{ fqdn: 'foo.*.example.com' }, { fqdn: '*' }, { fqdn: 'example.com', protocol: 'ICMP' }, { fqdn: 'example.com', ports: ['70000'] }, { fqdn: 'example.com', cidr: '10.0.0.0/8' }],
      },
      fileThreatProtection: { enabled: true, mode: 'scan' },
      extra: 1,
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(pointers(res)).toEqual([
      '/egress/allowed/0/fqdn',
      '/egress/allowed/1/fqdn',
      '/egress/allowed/2/protocol',
      '/egress/allowed/3/ports/0',
      '/egress/allowed/4/fqdn',
      '/executables/enabled',
      '/executables/exclusions/0/regex',
      '/executables/executables/0/path',
      '/executables/executables/1/regex',
      '/executables/executables/2/path',
      '/executables/executables/3/glob',
      '/executables/executables/3/path',
      '/executables/mode',
      '/extra',
      '/fileThreatProtection/mode',
      '/ingress/allowed/0/cidr',
      '/ingress/allowed/1/ports/0',
      '/ingress/allowed/2/ports/0',
      '/ingress/allowed/3/ports/0',
      '/name',
    ]);
    const detail = (pointer: string) => res.body.errors.find((e: { pointer: string }) => e.pointer === pointer).detail;
    expect(detail('/executables/executables/0/path')).toMatch(/absolute path/);
    expect(detail('/executables/executables/1/regex')).toMatch(/regular expression/);
    expect(detail('/egress/allowed/0/fqdn')).toMatch(/host name/);
    expect(detail('/extra')).toBe('unknown field');
    // Unknown members inside a union branch are reported as unknown fields too.
    expect(detail('/executables/executables/3/glob')).toBe('unknown field');
    expect(detail('/executables/exclusions/0/regex')).toBe('unknown field');
    expect(detail('/egress/allowed/4/fqdn')).toBe('unknown field');
    expect((await acme.json('GET', '/v1/runtime-profiles?name=*padded')).body.items).toEqual([]);
  });

  it('filters by name and paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) await createProfile(acme, { name: `page-${i}` });
    await createProfile(acme, { name: 'other-page' });
    expect(names(await acme.json('GET', '/v1/runtime-profiles?name=page-3'))).toEqual(['page-3']);
    const first = await acme.json('GET', '/v1/runtime-profiles?name=page-*&limit=2');
    expect(names(first)).toEqual(['page-0', 'page-1']);
    const second = await acme.json('GET', `/v1/runtime-profiles?name=page-*&limit=2&cursor=${first.body.nextCursor}`);
    const third = await acme.json('GET', `/v1/runtime-profiles?name=page-*&limit=2&cursor=${second.body.nextCursor}`);
    expect([...names(second), ...names(third)]).toEqual(['page-2', 'page-3', 'page-4']);
    expect(third.body.nextCursor).toBeUndefined();
    for (const query of ['cursor=garbage', 'limit=x', 'mode=blockListed']) {
      const bad = await acme.json('GET', `/v1/runtime-profiles?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toBe(PROBLEM);
    }
  });

  it('answers 409 for a duplicate name', async () => {
    await createProfile(acme, { name: 'dup' });
    const again = await acme.json('POST', '/v1/runtime-profiles', { name: 'dup', fileThreatProtection: { enabled: true } });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe(PROBLEM);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
    const other = await createProfile(acme, { name: 'dup-2' });
    expect((await acme.json('PUT', `/v1/runtime-profiles/${other.body.id}`, { name: 'dup' })).status).toBe(409);
    expect((await acme.json('GET', `/v1/runtime-profiles/${other.body.id}`)).body.name).toBe('dup-2');
  });

  it('honours If-Match', async () => {
    const created = await createProfile(acme, { name: 'etag' });
    const id = created.body.id as string;
    expect((await acme.json('PATCH', `/v1/runtime-profiles/${id}`, { description: 'v2' }, { 'if-match': '"1"' })).status).toBe(200);
    await expectStaleRefused(acme, `/v1/runtime-profiles/${id}`, { stale: '"1"', replaceBody: { name: 'etag' }, patchBody: { description: 'stale' } });
    expect((await acme.json('GET', `/v1/runtime-profiles/${id}`)).body.description).toBe('v2');
    const current = await acme.json('PUT', `/v1/runtime-profiles/${id}`, { name: 'etag', description: 'v3' }, { 'if-match': '"2"' });
    expect(current.status).toBe(200);
    expect((await acme.request('DELETE', `/v1/runtime-profiles/${id}`, undefined, { 'if-match': current.headers.get('etag')! })).status).toBe(204);
  });

  it('needs runtimeProfiles.manage to write; runtimeProfiles.view reads', async () => {
    const created = await createProfile(acme, { name: 'rights' });
    await expectViewOnly(h, acme, {
      path: '/v1/runtime-profiles',
      created,
      createBody: { name: 'viewer-made' },
      replaceBody: { name: 'rights' },
      patchBody: { description: 'x' },
      viewRight: 'runtimeProfiles.view',
      manageRight: 'runtimeProfiles.manage',
      outsiderRights: ['clusters.view'],
      listQuery: '?name=rights',
    });
  });

  it('hides a profile from another tenant on every endpoint', async () => {
    const created = await createProfile(acme, { ...webServer, name: 'secret-profile' });
    const id = created.body.id as string;
    expect(created.headers.get('etag')).toBe('"1"');
    await expectHiddenFromOtherTenant(acme, globex, { path: '/v1/runtime-profiles', created, replaceBody: { name: 'stolen' }, patchBody: { executables: { enabled: false } } });
    expect(names(await globex.json('GET', '/v1/runtime-profiles?name=secret-*'))).toEqual([]);

    // Nor can another tenant's policy point at it.
    const scope = await globex.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod' }] });
    const policy = await globex.json('POST', '/v1/runtime-policies', {
      name: 'steal',
      mode: 'audit',
      scopeIds: [scope.body.id],
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [id] }] },
    });
    expect(policy.status).toBe(422);
    expect(pointers(policy)).toEqual(['/containerRuntimeProfiles/mappings/0/profileIds/0']);
    expect((await acme.request('DELETE', `/v1/runtime-profiles/${id}`)).status).toBe(204);
  });

  it('refuses to delete a profile a runtime policy uses, naming the policy', async () => {
    const profile = await createProfile(acme, { name: 'in-use' });
    const spare = await createProfile(acme, { name: 'spare' });
    const scope = await acme.json('POST', '/v1/scopes', { name: 'in-use-scope', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    expect(scope.status).toBe(201);
    const policy = await acme.json('POST', '/v1/runtime-policies', {
      name: 'web-policy',
      mode: 'enforce',
      scopeIds: [scope.body.id],
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [profile.body.id, spare.body.id] }] },
    });
    expect(policy.status).toBe(201);

    const refused = await acme.json('DELETE', `/v1/runtime-profiles/${profile.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toBe(PROBLEM);
    expect(refused.body.type).toBe('https://palisade.dev/problems/in-use');
    expect(refused.body.policies).toEqual([{ id: policy.body.id, name: 'web-policy' }]);
    expect(refused.body.detail).toContain('web-policy');
    expect((await acme.json('GET', `/v1/runtime-profiles/${profile.body.id}`)).status).toBe(200);

    // Still editable while in use.
    expect((await acme.json('PATCH', `/v1/runtime-profiles/${profile.body.id}`, { description: 'used' })).status).toBe(200);

    // Once the policy lets go, the profile can go.
    const released = await acme.json('PATCH', `/v1/runtime-policies/${policy.body.id}`, { containerRuntimeProfiles: { mappings: [{ podLabels: { app: 'web' }, profileIds: [spare.body.id] }] } });
    expect(released.status).toBe(200);
    expect((await acme.request('DELETE', `/v1/runtime-profiles/${profile.body.id}`)).status).toBe(204);
    expect((await acme.json('DELETE', `/v1/runtime-profiles/${spare.body.id}`)).status).toBe(409);
    expect((await acme.request('DELETE', `/v1/runtime-policies/${policy.body.id}`)).status).toBe(204);
    expect((await acme.request('DELETE', `/v1/runtime-profiles/${spare.body.id}`)).status).toBe(204);
  });
});
