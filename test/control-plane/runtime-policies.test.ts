import { beforeAll, describe, expect, it } from 'vitest';
import { apiKeySubject as subjectOf, keyWithRights, type TenantClient } from '../support/harness.ts';
import { expectHiddenFromOtherTenant, expectProblem, expectViewOnly, mustCreate, pointers, twoTenants } from '../support/resource-checks.ts';

const { database, h, acme, globex } = await twoTenants();

/** Objects a full policy points at, created once in acme. */
let scopeId: string;
let otherScopeId: string;
let globalScopeId: string;
let profileId: string;
let validatorId: string;

const PATH = '/v1/runtime-policies';
const uuid = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

const create = async (client: TenantClient, path: string, body: unknown) => (await mustCreate(client, path, body)).body.id as string;

beforeAll(async () => {
  scopeId = await create(acme, '/v1/scopes', { name: 'payments', resources: [{ type: 'namespace', cluster: 'prod-*', namespace: 'payments' }] });
  otherScopeId = await create(acme, '/v1/scopes', { name: 'staging', resources: [{ type: 'cluster', cluster: 'staging' }] });
  profileId = await create(acme, '/v1/runtime-profiles', { name: 'no-shells', executables: { enabled: true, executables: [{ path: '/bin/sh' }] } });
  validatorId = await create(acme, '/v1/signature-validators', {
    name: 'acme-ci',
    type: 'cosign',
    verification: { method: 'keyless', identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github.com/acme/' }] },
  });
  const scopes = await acme.json('GET', '/v1/scopes');
  globalScopeId = scopes.body.items.find((s: { global: boolean }) => s.global).id;
});

/** The example document: every section, every kind of setting. */
function fullPolicy(name = 'payments-hardening') {
  return {
    name,
    description: 'Every section switched on',
    enabled: true,
    mode: 'enforce',
    scopeIds: [scopeId],
    exclusions: {
      enabled: true,
      items: [
        { kind: 'Namespace', name: 'kube-*', reason: 'control plane', expiresAt: '2031-01-01T00:00:00Z' },
        { kind: 'Deployment', name: 'legacy-*', namespace: 'legacy' },
        { kind: 'CronJob', name: 'nightly-backup', namespace: '*', reason: 'needs host paths' },
        { kind: 'Image', name: 'ghcr.io/acme/debug/**', reason: 'debug image', expiresAt: '2030-06-30T12:00:00+02:00' },
      ],
    },
    bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'imageDigestPinned', 'memoryLimitsSet'] },
    blockNonCompliantImages: { enabled: true },
    blockUnregisteredImages: { enabled: true },
    capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN', 'NET_RAW', 'SYS_PTRACE', 'BPF', 'ALL'] },
    containerRuntimeProfiles: {
      enabled: true,
      mappings: [
        { podLabels: { 'app.kubernetes.io/name': 'payments', tier: 'backend' }, profileIds: [profileId] },
        { imageUrlTemplates: ['ghcr.io/acme/*', 'docker.io/library/nginx:*'], profileIds: [profileId] },
      ],
    },
    fileThreatProtection: { enabled: true },
    imageContentProtection: {
      enabled: true,
      rules: [
        { registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId },
        { registryUrlTemplate: 'docker.io/library/*', verify: false },
      ],
    },
    limitContainerPrivileges: { enabled: true, preset: 'restricted', settings: ['privileged', 'hostNetwork', 'runAsRoot'] },
    registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'registry.example.com:5000', 'docker.io/library'] },
    volumesBlocked: { enabled: true, paths: ['/var/run/docker.sock', '/etc', '/proc/sys'] },
  };
}

const minimal = (name: string, scopes = [scopeId]) => ({ name, mode: 'audit', scopeIds: scopes });

describe('/v1/runtime-policies documents', () => {
  it('stores the full example document as given, with server metadata', async () => {
    const doc = fullPolicy();
    const res = await acme.json('POST', PATH, doc);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toEqual({
      ...doc,
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      revision: 1,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
      createdBy: await subjectOf(database, acme.key),
      updatedBy: await subjectOf(database, acme.key),
      // Read-only: the scope reaches no cluster yet, so there is no cluster where a section goes unenforced.
      enforcement: { notEnforcedIn: [] },
    });
    expect(res.headers.get('location')).toBe(`${PATH}/${res.body.id}`);
    expect(res.headers.get('etag')).toBe('"1"');
    const got = await acme.json('GET', `${PATH}/${res.body.id}`);
    expect(got.body).toEqual(res.body);
  });

  it('switches every section off by default', async () => {
    const res = await acme.json('POST', PATH, minimal('defaults'));
    expect(res.status).toBe(201);
    const { id, createdAt, updatedAt, createdBy, updatedBy, revision, enforcement, ...doc } = res.body;
    expect(enforcement).toEqual({ notEnforcedIn: [] });
    expect(doc).toEqual({
      name: 'defaults',
      enabled: true,
      mode: 'audit',
      scopeIds: [scopeId],
      exclusions: { enabled: false, items: [] },
      bestPracticeCheck: { enabled: false, checks: [] },
      blockNonCompliantImages: { enabled: false },
      blockUnregisteredImages: { enabled: false },
      capabilitiesBlock: { enabled: false, capabilities: [] },
      containerRuntimeProfiles: { enabled: false, mappings: [] },
      fileThreatProtection: { enabled: false },
      imageContentProtection: { enabled: false, rules: [] },
      limitContainerPrivileges: { enabled: false, settings: [] },
      registriesAllowed: { enabled: false, registries: [] },
      volumesBlocked: { enabled: false, paths: [] },
    });
    expect(revision).toBe(1);
    // A section given with only its settings is still off.
    const off = await acme.json('POST', PATH, { ...minimal('settings-only'), volumesBlocked: { paths: ['/etc'] } });
    expect(off.body.volumesBlocked).toEqual({ enabled: false, paths: ['/etc'] });
  });

  it('keeps a section’s settings when it is switched off', async () => {
    const created = await acme.json('POST', PATH, fullPolicy('switch-off'));
    const id = created.body.id;
    const patched = await acme.json('PATCH', `${PATH}/${id}`, { capabilitiesBlock: { enabled: false }, volumesBlocked: { enabled: false } }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body.capabilitiesBlock).toEqual({ enabled: false, capabilities: fullPolicy().capabilitiesBlock.capabilities });
    expect(patched.body.volumesBlocked).toEqual({ enabled: false, paths: fullPolicy().volumesBlocked.paths });

    const doc = fullPolicy('switch-off');
    const everythingOff = Object.fromEntries(
      Object.entries(doc).map(([k, v]) => [k, v !== null && typeof v === 'object' && !Array.isArray(v) ? { ...v, enabled: false } : v]),
    );
    const put = await acme.json('PUT', `${PATH}/${id}`, everythingOff);
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    const got = await acme.json('GET', `${PATH}/${id}`);
    for (const [section, value] of Object.entries(doc)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) expect(got.body[section], section).toEqual({ ...value, enabled: false });
    }
    // and switched on again, the settings are still there
    const on = await acme.json('PATCH', `${PATH}/${id}`, { imageContentProtection: { enabled: true } }, { 'content-type': 'application/merge-patch+json' });
    expect(on.body.imageContentProtection).toEqual(doc.imageContentProtection);
  });

  it('checks image URL templates with the matcher the agent uses', async () => {
    const res = await acme.json('POST', PATH, { ...minimal('bad-template'), imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: ':latest', verify: false }] } });
    expect(res.status).toBe(422);
    expect(pointers(res)).toEqual(['/imageContentProtection/rules/0/registryUrlTemplate']);
  });

  it('accepts capabilities with or without CAP_, in any case, and ALL; refuses unknown ones', async () => {
    const ok = await acme.json('POST', PATH, { ...minimal('caps'), capabilitiesBlock: { enabled: true, capabilities: ['CAP_NET_ADMIN', 'net_raw', 'Cap_Sys_Time', 'CHECKPOINT_RESTORE', 'ALL', 'all'] } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body.capabilitiesBlock.capabilities).toEqual(['NET_ADMIN', 'NET_RAW', 'SYS_TIME', 'CHECKPOINT_RESTORE', 'ALL', 'ALL']);
    for (const bad of ['CAP_FLY', 'CAP_', 'SYS_ADMINISTRATOR', '', 'CAP_ALL']) {
      const res = await acme.json('POST', PATH, { ...minimal(`caps-${bad}`), capabilitiesBlock: { enabled: true, capabilities: ['NET_RAW', bad] } });
      expectProblem(res, 422);
      expect(pointers(res), bad).toEqual(['/capabilitiesBlock/capabilities/1']);
    }
  });

  it('refuses invalid sections with a pointer to the member', async () => {
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['volume path without /', { volumesBlocked: { enabled: true, paths: ['/ok', 'var/run/docker.sock'] } }, ['/volumesBlocked/paths/1']],
      ['empty volume path', { volumesBlocked: { enabled: true, paths: [''] } }, ['/volumesBlocked/paths/0']],
      ['verify without validator', { imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true }] } }, ['/imageContentProtection/rules/0/validatorId']],
      ['validator id not a UUID', { imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId: 'acme-ci' }] } }, ['/imageContentProtection/rules/0/validatorId']],
      ['mapping by labels and templates', { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'x' }, imageUrlTemplates: ['ghcr.io/*'], profileIds: [uuid] }] } }, ['/containerRuntimeProfiles/mappings/0/podLabels']],
      ['mapping by nothing', { containerRuntimeProfiles: { enabled: true, mappings: [{ profileIds: [uuid] }] } }, ['/containerRuntimeProfiles/mappings/0/podLabels']],
      ['mapping by empty labels', { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: {}, profileIds: [uuid] }] } }, ['/containerRuntimeProfiles/mappings/0/podLabels']],
      ['mapping without profiles', { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'x' }, profileIds: [] }] } }, ['/containerRuntimeProfiles/mappings/0/profileIds']],
      ['bad label key', { containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { 'not a key': 'x' }, profileIds: [uuid] }] } }, ['/containerRuntimeProfiles/mappings/0/podLabels/not a key']],
      ['unknown preset', { limitContainerPrivileges: { enabled: true, preset: 'privileged' } }, ['/limitContainerPrivileges/preset']],
      ['unknown privilege setting', { limitContainerPrivileges: { enabled: true, settings: ['hostNetwork', 'rootless'] } }, ['/limitContainerPrivileges/settings/1']],
      ['registry with a scheme', { registriesAllowed: { enabled: true, registries: ['https://ghcr.io/acme'] } }, ['/registriesAllowed/registries/0']],
      ['unknown exclusion kind', { exclusions: { enabled: true, items: [{ kind: 'Service', name: 'x' }] } }, ['/exclusions/items/0/kind']],
      ['exclusion expiry not a timestamp', { exclusions: { enabled: true, items: [{ kind: 'Pod', name: 'x', expiresAt: 'tomorrow' }] } }, ['/exclusions/items/0/expiresAt']],
      ['exclusion without a name', { exclusions: { enabled: true, items: [{ kind: 'Pod' }] } }, ['/exclusions/items/0/name']],
      // A workload's name is chosen by whoever creates it: a workload exclusion must say in which namespaces it holds.
      ['workload exclusions without a namespace', { exclusions: { enabled: true, items: [{ kind: 'Image', name: 'ghcr.io/x/*' }, { kind: 'Deployment', name: 'x' }, { kind: 'Pod', name: 'y', namespace: 'ops' }, { kind: 'CronJob', name: 'z' }] } }, ['/exclusions/items/1/namespace', '/exclusions/items/3/namespace']],
      ['namespace on a Namespace exclusion', { exclusions: { enabled: true, items: [{ kind: 'Namespace', name: 'x', namespace: 'y' }] } }, ['/exclusions/items/0/namespace']],
      ['unknown best-practice check', { bestPracticeCheck: { enabled: true, checks: ['noRoot'] } }, ['/bestPracticeCheck/checks/0']],
      ['unknown member in a section', { blockNonCompliantImages: { enabled: true, severity: 'high' } }, ['/blockNonCompliantImages/severity']],
      ['section switch not a boolean', { fileThreatProtection: { enabled: 'yes' } }, ['/fileThreatProtection/enabled']],
      ['unknown mode', { mode: 'block' }, ['/mode']],
      ['no scopes', { scopeIds: [] }, ['/scopeIds']],
      ['unknown top-level member', { priority: 1 }, ['/priority']],
    ];
    for (const [what, patch, expected] of cases) {
      const res = await acme.json('POST', PATH, { ...minimal('invalid'), ...patch });
      expectProblem(res, 422);
      expect(pointers(res), what).toEqual(expected);
    }
    const missing = await acme.json('POST', PATH, { name: 'x' });
    expectProblem(missing, 422);
    expect(pointers(missing)).toEqual(['/mode', '/scopeIds']);
    expect((await acme.json('GET', `${PATH}?name=invalid`)).body.items).toEqual([]);
  });
});

describe('/v1/runtime-policies CRUD', () => {
  it('runs the cycle with revisions as ETags and If-Match', async () => {
    const created = await acme.json('POST', PATH, minimal('cycle'));
    const id = created.body.id;
    expect(created.headers.get('etag')).toBe('"1"');

    const put = await acme.json('PUT', `${PATH}/${id}`, { ...minimal('cycle'), description: 'replaced' }, { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ description: 'replaced', revision: 2 });
    expect(put.headers.get('etag')).toBe('"2"');

    const patched = await acme.json('PATCH', `${PATH}/${id}`, { mode: 'enforce' }, { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'replaced', mode: 'enforce', revision: 3 });

    for (const [method, body] of [['PUT', minimal('cycle')], ['PATCH', { mode: 'audit' }], ['DELETE', undefined]] as const) {
      const stale = await acme.json(method, `${PATH}/${id}`, body, { 'if-match': '"2"' });
      expectProblem(stale, 412);
      expect(stale.body.currentEtag).toBe('"3"');
    }
    const got = await acme.json('GET', `${PATH}/${id}`);
    expect(got.body).toMatchObject({ mode: 'enforce', revision: 3 });

    const any = await acme.json('PATCH', `${PATH}/${id}`, { description: null }, { 'if-match': '*' });
    expect(any.status).toBe(200);
    expect(any.body.description).toBeUndefined();
    expect(any.body.revision).toBe(4);
    // A PUT of the same document is still a new revision.
    const same = await acme.json('PUT', `${PATH}/${id}`, { ...minimal('cycle'), mode: 'enforce' });
    expect(same.body.revision).toBe(5);

    expect((await acme.request('DELETE', `${PATH}/${id}`, undefined, { 'if-match': '"5"' })).status).toBe(204);
    expectProblem(await acme.json('GET', `${PATH}/${id}`), 404);
    expectProblem(await acme.json('PUT', `${PATH}/${id}`, minimal('cycle')), 404);
    expectProblem(await acme.json('DELETE', `${PATH}/${id}`), 404);
    expect((await acme.json('GET', `${PATH}?name=cycle`)).body.items).toEqual([]);
    expectProblem(await acme.json('GET', `${PATH}/not-a-uuid`), 404);
  });

  it('answers 409 for a duplicate name, on create and on rename', async () => {
    expect((await acme.json('POST', PATH, minimal('dup'))).status).toBe(201);
    const again = await acme.json('POST', PATH, minimal('dup'));
    expectProblem(again, 409);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
    const other = await acme.json('POST', PATH, minimal('dup-2'));
    const rename = await acme.json('PATCH', `${PATH}/${other.body.id}`, { name: 'dup' });
    expectProblem(rename, 409);
    expect((await acme.json('GET', `${PATH}/${other.body.id}`)).body).toMatchObject({ name: 'dup-2', revision: 1 });
    // Another tenant may use the same name.
    const scope = await create(globex, '/v1/scopes', { name: 'all', resources: [{ type: 'cluster', cluster: '*' }] });
    expect((await globex.json('POST', PATH, minimal('dup', [scope]))).status).toBe(201);
  });

  it('filters the list by name, enabled, mode, scope, profile and validator', async () => {
    const a = await create(acme, PATH, { ...minimal('flt-a'), enabled: true, mode: 'audit', scopeIds: [scopeId] });
    const b = await create(acme, PATH, { ...minimal('flt-b'), enabled: false, mode: 'enforce', scopeIds: [otherScopeId] });
    const c = await create(acme, PATH, {
      ...minimal('flt-c'),
      mode: 'enforce',
      scopeIds: [otherScopeId, scopeId],
      containerRuntimeProfiles: { mappings: [{ podLabels: { app: 'c' }, profileIds: [profileId] }] },
      imageContentProtection: { rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId }] },
    });
    const ids = async (query: string) => {
      const res = await acme.json('GET', `${PATH}?${query}`);
      expect(res.status, query).toBe(200);
      return res.body.items.map((p: { id: string }) => p.id);
    };
    expect(await ids('name=flt-*')).toEqual([a, b, c]);
    expect(await ids('name=flt-b')).toEqual([b]);
    expect(await ids('name=flt-*&enabled=false')).toEqual([b]);
    expect(await ids('name=flt-*&enabled=true')).toEqual([a, c]);
    expect(await ids('name=flt-*&mode=enforce')).toEqual([b, c]);
    expect(await ids('name=flt-*&mode=audit')).toEqual([a]);
    expect(await ids(`name=flt-*&scopeId=${scopeId}`)).toEqual([a, c]);
    expect(await ids(`name=flt-*&scopeId=${otherScopeId}&enabled=true`)).toEqual([c]);
    expect(await ids(`name=flt-*&profileId=${profileId}`)).toEqual([c]);
    expect(await ids(`name=flt-*&validatorId=${validatorId}`)).toEqual([c]);
    expect(await ids(`scopeId=${uuid}`)).toEqual([]);
    expect(await ids('name=flt-*&limit=2')).toEqual([a, b]);

    for (const query of ['enabled=yes', 'mode=block', 'scopeId=payments', 'profileId=1', 'owner=me', 'limit=0']) {
      const res = await acme.json('GET', `${PATH}?${query}`);
      expectProblem(res, 400);
      expect(res.body.errors.length, query).toBeGreaterThan(0);
    }
  });
});

describe('/v1/runtime-policies references', () => {
  it('refuses unknown scopes, profiles and validators, naming the member', async () => {
    const doc = {
      ...minimal('refs'),
      scopeIds: [scopeId, uuid],
      containerRuntimeProfiles: { mappings: [{ podLabels: { app: 'x' }, profileIds: [profileId] }, { imageUrlTemplates: ['ghcr.io/*'], profileIds: [profileId, uuid] }] },
      imageContentProtection: { rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: false }, { registryUrlTemplate: 'quay.io/**', verify: true, validatorId: uuid }] },
    };
    const res = await acme.json('POST', PATH, doc);
    expectProblem(res, 422);
    expect(res.body.errors).toEqual([
      { pointer: '/scopeIds/1', detail: expect.stringContaining(uuid) },
      { pointer: '/containerRuntimeProfiles/mappings/1/profileIds/1', detail: expect.stringContaining(uuid) },
      { pointer: '/imageContentProtection/rules/1/validatorId', detail: expect.stringContaining(uuid) },
    ]);

    const ok = await acme.json('POST', PATH, minimal('refs'));
    const put = await acme.json('PUT', `${PATH}/${ok.body.id}`, { ...minimal('refs'), scopeIds: [uuid] });
    expectProblem(put, 422);
    expect(pointers(put)).toEqual(['/scopeIds/0']);
    const patch = await acme.json('PATCH', `${PATH}/${ok.body.id}`, { imageContentProtection: { rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId: uuid }] } });
    expectProblem(patch, 422);
    expect(pointers(patch)).toEqual(['/imageContentProtection/rules/0/validatorId']);
    expect((await acme.json('GET', `${PATH}/${ok.body.id}`)).body.revision).toBe(1);
  });

  it('accepts references written in upper case and stores them in canonical lower case', async () => {
    const doc = {
      ...minimal('upper-case-ids', [scopeId.toUpperCase()]),
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'x' }, profileIds: [profileId.toUpperCase()] }] },
      imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId: validatorId.toUpperCase() }] },
    };
    const res = await acme.json('POST', PATH, doc);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.scopeIds).toEqual([scopeId]);
    expect(res.body.containerRuntimeProfiles.mappings[0].profileIds).toEqual([profileId]);
    expect(res.body.imageContentProtection.rules[0].validatorId).toBe(validatorId);
    const found = await acme.json('GET', `${PATH}?name=upper-case-ids&scopeId=${scopeId}&profileId=${profileId}&validatorId=${validatorId}`);
    expect(found.body.items.map((p: { id: string }) => p.id)).toEqual([res.body.id]);
    expect((await acme.request('DELETE', `${PATH}/${res.body.id}`)).status).toBe(204);
  });

  it('refuses a scope that holds only registry resources', async () => {
    const registryScope = await create(acme, '/v1/scopes', { name: 'registries-only', resources: [{ type: 'registry', registry: 'ghcr.io/acme' }] });
    const res = await acme.json('POST', PATH, minimal('registry-scope', [scopeId, registryScope]));
    expectProblem(res, 422);
    expect(res.body.errors).toEqual([{ pointer: '/scopeIds/1', detail: expect.stringMatching(/registry/) }]);
    const mixed = await create(acme, '/v1/scopes', { name: 'mixed', resources: [{ type: 'registry', registry: 'ghcr.io/acme' }, { type: 'cluster', cluster: 'prod' }] });
    expect((await acme.json('POST', PATH, minimal('mixed-scope', [mixed]))).status).toBe(201);
  });

  it('keeps objects in use from being deleted and names the policies', async () => {
    const scope = await create(acme, '/v1/scopes', { name: 'in-use', resources: [{ type: 'cluster', cluster: 'in-use' }] });
    const profile = await create(acme, '/v1/runtime-profiles', { name: 'in-use' });
    const validator = await create(acme, '/v1/signature-validators', {
      name: 'in-use',
      type: 'cosign',
      verification: { method: 'keyless', identities: [{ issuerRegExp: '.*', subject: 'ci@acme.example' }] },
    });
    const doc = {
      ...minimal('user-1', [scope]),
      containerRuntimeProfiles: { mappings: [{ podLabels: { app: 'x' }, profileIds: [profile] }] },
      imageContentProtection: { rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId: validator }] },
    };
    const one = await create(acme, PATH, doc);
    const two = await create(acme, PATH, { ...doc, name: 'user-2' });

    for (const [path, id] of [['/v1/scopes', scope], ['/v1/runtime-profiles', profile], ['/v1/signature-validators', validator]] as const) {
      const res = await acme.json('DELETE', `${path}/${id}`);
      expectProblem(res, 409);
      expect(res.body.policies, path).toEqual(expect.arrayContaining([{ id: one, name: 'user-1' }, { id: two, name: 'user-2' }]));
      expect(res.body.policies).toHaveLength(2);
      expect(res.body.detail).toMatch(/user-1/);
    }

    // A policy that stops using an object releases it.
    const released = await acme.json('PUT', `${PATH}/${one}`, { ...minimal('user-1', [scopeId]) });
    expect(released.status).toBe(200);
    const still = await acme.json('DELETE', `/v1/runtime-profiles/${profile}`);
    expect(still.body.policies).toEqual([{ id: two, name: 'user-2' }]);

    // Deleting the last user releases everything.
    expect((await acme.request('DELETE', `${PATH}/${two}`)).status).toBe(204);
    for (const [path, id] of [['/v1/scopes', scope], ['/v1/runtime-profiles', profile], ['/v1/signature-validators', validator]] as const) {
      expect((await acme.request('DELETE', `${path}/${id}`)).status, path).toBe(204);
    }
  });
});

describe('/v1/runtime-policies/{id}/revisions', () => {
  it('shows who changed what and when, also after the policy is deleted', async () => {
    const before = Date.now();
    const editorKey = await keyWithRights(acme, ['runtimePolicies.view', 'runtimePolicies.manage']);
    const editor = h.as(acme, editorKey);
    const id = await create(acme, PATH, fullPolicy('audited'));
    const subjects = new Map([[acme.key, await subjectOf(database, acme.key)], [editorKey, await subjectOf(database, editorKey)]]);
    const apiKeySubject = (secret: string) => subjects.get(secret);

    const patched = await editor.json('PATCH', `${PATH}/${id}`, { description: 'tuned', capabilitiesBlock: { enabled: false }, volumesBlocked: { paths: ['/etc'] } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ revision: 2, updatedBy: apiKeySubject(editorKey), createdBy: apiKeySubject(acme.key) });
    const put = await acme.json('PUT', `${PATH}/${id}`, { ...fullPolicy('audited-renamed'), mode: 'audit', scopeIds: [scopeId, otherScopeId] });
    expect(put.body.revision).toBe(3);
    expect((await editor.request('DELETE', `${PATH}/${id}`)).status).toBe(204);

    const res = await acme.json('GET', `${PATH}/${id}/revisions`);
    expect(res.status).toBe(200);
    const items = res.body.items;
    expect(items.map((r: { revision: number; action: string; changedBy: string }) => [r.revision, r.action, r.changedBy])).toEqual([
      [1, 'create', apiKeySubject(acme.key)],
      [2, 'update', apiKeySubject(editorKey)],
      [3, 'update', apiKeySubject(acme.key)],
      [4, 'delete', apiKeySubject(editorKey)],
    ]);
    expect(items[0].changes).toEqual([]);
    expect(items[1].changes).toEqual(['/capabilitiesBlock/enabled', '/description', '/volumesBlocked/paths']);
    expect(items[2].changes).toEqual(['/capabilitiesBlock/enabled', '/description', '/mode', '/name', '/scopeIds', '/volumesBlocked/paths']);
    expect(items[0].document).toEqual(fullPolicy('audited'));
    expect(items[1].document).toMatchObject({ description: 'tuned', capabilitiesBlock: { enabled: false }, volumesBlocked: { enabled: true, paths: ['/etc'] } });
    expect(items[3].document.name).toBe('audited-renamed');
    for (const r of items) {
      const at = Date.parse(r.changedAt);
      expect(r.changedAt).toBe(new Date(at).toISOString());
      expect(at).toBeGreaterThanOrEqual(before - 1000);
      expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    }

    const first = await acme.json('GET', `${PATH}/${id}/revisions?limit=3`);
    expect(first.body.items.map((r: { revision: number }) => r.revision)).toEqual([1, 2, 3]);
    const rest = await acme.json('GET', `${PATH}/${id}/revisions?limit=3&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((r: { revision: number }) => r.revision)).toEqual([4]);
    expect(rest.body.nextCursor).toBeUndefined();

    expectProblem(await acme.json('GET', `${PATH}/${uuid}/revisions`), 404);
    expectProblem(await acme.json('GET', `${PATH}/nope/revisions`), 404);
  });
});

describe('/v1/runtime-policies rights', () => {
  it('needs runtimePolicies.manage to write and runtimePolicies.view to read', async () => {
    const created = await acme.json('POST', PATH, minimal('guarded'));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const { viewer, outsider } = await expectViewOnly(h, acme, {
      path: PATH,
      created,
      createBody: minimal('by-viewer'),
      replaceBody: minimal('guarded'),
      patchBody: { mode: 'enforce' },
      viewRight: 'runtimePolicies.view',
      manageRight: 'runtimePolicies.manage',
      outsiderRights: ['scopes.view'],
      listQuery: '?name=guarded',
    });
    expect((await viewer.json('GET', `${PATH}/${id}/revisions`)).status).toBe(200);
    const revisions = await outsider.json('GET', `${PATH}/${id}/revisions`);
    expectProblem(revisions, 403);
    expect(revisions.body.missingRights).toEqual(['runtimePolicies.view']);
    expect((await acme.json('GET', `${PATH}/${id}`)).body.revision).toBe(1);
  });

  it('needs scopes.viewGlobal for a policy on the built-in global scope', async () => {
    const manager = h.as(acme, await keyWithRights(acme, ['runtimePolicies.view', 'runtimePolicies.manage', 'scopes.view']));
    const globalManager = h.as(acme, await keyWithRights(acme, ['runtimePolicies.view', 'runtimePolicies.manage', 'scopes.view', 'scopes.viewGlobal']));

    const refused = await manager.json('POST', PATH, minimal('everywhere', [scopeId, globalScopeId]));
    expectProblem(refused, 403);
    expect(refused.body.missingRights).toEqual(['scopes.viewGlobal']);
    expect((await acme.json('GET', `${PATH}?name=everywhere`)).body.items).toEqual([]);

    const own = await create(manager, PATH, minimal('local'));
    expectProblem(await manager.json('PATCH', `${PATH}/${own}`, { scopeIds: [globalScopeId] }), 403);

    const id = await create(globalManager, PATH, minimal('everywhere', [globalScopeId]));
    // Reading stays open to anyone who may read policies.
    expect((await manager.json('GET', `${PATH}/${id}`)).body.scopeIds).toEqual([globalScopeId]);
    for (const [method, body] of [['PUT', minimal('everywhere', [scopeId])], ['PATCH', { scopeIds: [scopeId] }], ['PATCH', { description: 'x' }], ['DELETE', undefined]] as const) {
      const res = await manager.json(method, `${PATH}/${id}`, body);
      expectProblem(res, 403);
      expect(res.body.missingRights, method).toEqual(['scopes.viewGlobal']);
    }
    expect((await acme.json('GET', `${PATH}/${id}`)).body).toMatchObject({ revision: 1, scopeIds: [globalScopeId] });

    const moved = await globalManager.json('PATCH', `${PATH}/${id}`, { scopeIds: [scopeId] });
    expect(moved.status).toBe(200);
    // Off the global scope, the policy is an ordinary one again.
    expect((await manager.json('PATCH', `${PATH}/${id}`, { description: 'local now' })).status).toBe(200);
    expect((await globalManager.json('PATCH', `${PATH}/${id}`, { scopeIds: [globalScopeId] })).status).toBe(200);
    expect((await globalManager.request('DELETE', `${PATH}/${id}`)).status).toBe(204);
  });
});

describe('/v1/runtime-policies across tenants', () => {
  it('answers 404 to another tenant on every endpoint and keeps references inside the tenant', async () => {
    const created = await acme.json('POST', PATH, fullPolicy('acme-only'));
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await expectHiddenFromOtherTenant(acme, globex, { path: PATH, created, replaceBody: minimal('stolen', [globalScopeId]), patchBody: { description: 'stolen' } });
    expectProblem(await globex.json('GET', `${PATH}/${id}/revisions`), 404);
    const list = await globex.json('GET', `${PATH}?name=acme-*`);
    expect(list.body.items).toEqual([]);
    expect((await globex.json('GET', `${PATH}?scopeId=${scopeId}`)).body.items).toEqual([]);

    for (const [doc, pointer] of [
      [minimal('borrow-scope', [scopeId]), '/scopeIds/0'],
      [minimal('borrow-global', [globalScopeId]), '/scopeIds/0'],
    ] as const) {
      const res = await globex.json('POST', PATH, doc);
      expectProblem(res, 422);
      expect(pointers(res)).toEqual([pointer]);
    }
    const globexScope = await create(globex, '/v1/scopes', { name: 'globex', resources: [{ type: 'cluster', cluster: 'globex' }] });
    const borrowed = await globex.json('POST', PATH, {
      ...minimal('borrow-objects', [globexScope]),
      containerRuntimeProfiles: { mappings: [{ podLabels: { app: 'x' }, profileIds: [profileId] }] },
      imageContentProtection: { rules: [{ registryUrlTemplate: 'ghcr.io/**', verify: true, validatorId }] },
    });
    expectProblem(borrowed, 422);
    expect(pointers(borrowed)).toEqual(['/containerRuntimeProfiles/mappings/0/profileIds/0', '/imageContentProtection/rules/0/validatorId']);

    const got = await acme.json('GET', `${PATH}/${id}`);
    expect(got.body).toMatchObject({ name: 'acme-only', revision: 1 });
    expect((await acme.json('GET', `${PATH}/${id}/revisions`)).body.items).toHaveLength(1);
  });
});
