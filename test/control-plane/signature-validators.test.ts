import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TenantClient } from '../support/harness.ts';
import { expectCreated, expectHiddenFromOtherTenant, expectStaleRefused, expectViewOnly, mustCreate, names, pointers, PROBLEM, twoTenants } from '../support/resource-checks.ts';

const { h, acme, globex } = await twoTenants();

const spki = { type: 'spki', format: 'pem' } as const;
const pkcs8 = { type: 'pkcs8', format: 'pem' } as const;
const ecdsaP256 = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: spki, privateKeyEncoding: pkcs8 });
const ecdsaP384 = generateKeyPairSync('ec', { namedCurve: 'P-384', publicKeyEncoding: spki, privateKeyEncoding: pkcs8 });
const ed25519 = generateKeyPairSync('ed25519', { publicKeyEncoding: spki, privateKeyEncoding: pkcs8 });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: spki, privateKeyEncoding: pkcs8 });
const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1', publicKeyEncoding: spki, privateKeyEncoding: pkcs8 });

const withKey = (name: string, publicKey: string) => ({ name, type: 'cosign', verification: { method: 'publicKey', publicKey } });
const keyless = {
  name: 'github-actions',
  description: 'Images built by our GitHub workflows',
  type: 'cosign',
  verification: {
    method: 'keyless',
    identities: [
      { issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github\\.com/acme/.+/\\.github/workflows/release\\.yml@refs/tags/v.*$' },
      { issuerRegExp: '^https://accounts\\.google\\.com$', subject: 'release@acme.example' },
    ],
  },
};

const createValidator = (client: TenantClient, body: Record<string, unknown>) => mustCreate(client, '/v1/signature-validators', body);

describe('/v1/signature-validators', () => {
  it('runs the CRUD cycle with ETags', async () => {
    const created = await expectCreated(acme, '/v1/signature-validators', { ...withKey('release-key', ecdsaP256.publicKey), description: 'cosign.pub' });
    const id = created.body.id as string;

    // PUT replaces the document: a new key, no description.
    const put = await acme.json('PUT', `/v1/signature-validators/${id}`, withKey('release-key', ed25519.publicKey), { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"2"');
    expect(put.body.verification).toEqual({ method: 'publicKey', publicKey: ed25519.publicKey });
    expect(put.body).not.toHaveProperty('description');

    // Switching to keyless with a merge patch: the key must be removed with null.
    const leftover = await acme.json('PATCH', `/v1/signature-validators/${id}`, { verification: { method: 'keyless', identities: keyless.verification.identities } });
    expect(leftover.status).toBe(422);
    expect(pointers(leftover)).toEqual(['/verification/publicKey']);
    const patched = await acme.json(
      'PATCH',
      `/v1/signature-validators/${id}`,
      { description: 'now keyless', verification: { method: 'keyless', publicKey: null, identities: keyless.verification.identities } },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
    expect(patched.body).toMatchObject({ name: 'release-key', description: 'now keyless', verification: keyless.verification });
    expect(patched.body.verification).not.toHaveProperty('publicKey');

    expect((await acme.request('DELETE', `/v1/signature-validators/${id}`)).status).toBe(204);
    const gone = await acme.json('GET', `/v1/signature-validators/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.headers.get('content-type')).toBe(PROBLEM);
  });

  it('accepts ECDSA, Ed25519 and RSA public keys in PEM', async () => {
    for (const [name, pem] of [
      ['ecdsa-p256', ecdsaP256.publicKey],
      ['ecdsa-p384', ecdsaP384.publicKey],
      ['ed25519', ed25519.publicKey],
      ['rsa-2048', rsa.publicKey],
      ['crlf', ecdsaP256.publicKey.replaceAll('\n', '\r\n')],
      ['padded', `\n  ${rsa.publicKey}\n\n`],
    ] as const) {
      const res = await acme.json('POST', '/v1/signature-validators', withKey(name, pem));
      expect(res.status, name).toBe(201);
      expect(res.body.verification.publicKey, name).toBe(pem);
    }
  });

  it('rejects anything but a usable PEM public key, at /verification/publicKey', async () => {
    const body = ecdsaP256.publicKey.split('\n').slice(1, -2).join('\n');
    const bad: Array<[string, string]> = [
      ['garbage', 'this is not a key'],
      ['garbage PEM', '-----BEGIN PUBLIC KEY-----\nZ2FyYmFnZSBnYXJiYWdlIGdhcmJhZ2U=\n-----END PUBLIC KEY-----\n'],
      ['not base64', '-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n'],
      ['empty PEM', '-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n'],
      ['no armour', body],
      ['truncated', ecdsaP256.publicKey.slice(0, 60) + '\n-----END PUBLIC KEY-----\n'],
      ['private key', ecdsaP256.privateKey],
      ['RSA PUBLIC KEY label', rsa.publicKey.replaceAll('PUBLIC KEY', 'RSA PUBLIC KEY')],
      ['two keys', ecdsaP256.publicKey + ed25519.publicKey],
      ['unsupported curve', secp256k1.publicKey],
      ['empty', ''],
    ];
    for (const [what, publicKey] of bad) {
      const res = await acme.json('POST', '/v1/signature-validators', withKey(`bad-${what}`, publicKey));
      expect(res.status, what).toBe(422);
      expect(res.headers.get('content-type'), what).toBe(PROBLEM);
      expect(res.body.errors, what).toEqual([{ pointer: '/verification/publicKey', detail: expect.stringMatching(/PEM public key/) }]);
    }
    expect(names(await acme.json('GET', '/v1/signature-validators?name=bad-*'))).toEqual([]);

    const created = await createValidator(acme, withKey('replace-me', rsa.publicKey));
    for (const [method, payload] of [
      ['PUT', withKey('replace-me', 'garbage')],
      ['PATCH', { verification: { publicKey: 'garbage' } }],
    ] as const) {
      const res = await acme.json(method, `/v1/signature-validators/${created.body.id}`, payload);
      expect(res.status, method).toBe(422);
      expect(pointers(res), method).toEqual(['/verification/publicKey']);
    }
    expect((await acme.json('GET', `/v1/signature-validators/${created.body.id}`)).body).toEqual(created.body);
  });

  it('stores keyless identities with exact or regular-expression issuer and subject', async () => {
    const created = await acme.json('POST', '/v1/signature-validators', keyless);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(keyless);

    const res = await acme.json('POST', '/v1/signature-validators', {
      name: 'bad-keyless',
      type: 'cosign',
      verification: {
        method: 'keyless',
        identities: [
          { issuer: 'https://issuer', issuerRegExp: '^https://issuer$', subject: 'a@b' },
          { subject: 'a@b' },
          { issuer: 'https://issuer', subjectRegExp: '(unclosed' },
          { issuer: '', subject: 'a@b' },
          { issuer: 'https://issuer', subject: 'a@b', audience: 'sigstore' },
        ],
      },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(pointers(res)).toEqual([
      '/verification/identities/0/issuer',
      '/verification/identities/1/issuer',
      '/verification/identities/2/subjectRegExp',
      '/verification/identities/3/issuer',
      '/verification/identities/4/audience',
    ]);
    const detail = (pointer: string) => res.body.errors.find((e: { pointer: string }) => e.pointer === pointer).detail;
    expect(detail('/verification/identities/0/issuer')).toMatch(/exactly one of issuer and issuerRegExp/);
    expect(detail('/verification/identities/2/subjectRegExp')).toMatch(/regular expression/);
    expect(detail('/verification/identities/4/audience')).toBe('unknown field');

    for (const [body, expected] of [
      [{ ...keyless, verification: { method: 'keyless', identities: [] } }, ['/verification/identities']],
      [{ ...keyless, verification: { method: 'certificate' } }, ['/verification/method']],
      [{ ...keyless, verification: { method: 'keyless', identities: keyless.verification.identities, publicKey: rsa.publicKey } }, ['/verification/publicKey']],
      [{ ...keyless, type: 'notation' }, ['/type']],
      [{ name: 'x', verification: keyless.verification }, ['/type']],
      [{ ...keyless, name: 'x', id: created.body.id }, ['/id']],
      [{ ...keyless, name: '' }, ['/name']],
    ] as const) {
      const bad = await acme.json('POST', '/v1/signature-validators', body);
      expect(bad.status, JSON.stringify(body)).toBe(422);
      expect(pointers(bad), JSON.stringify(body)).toEqual(expected);
    }
  });

  it('filters by name and paginates with a cursor', async () => {
    for (let i = 0; i < 5; i++) await createValidator(acme, withKey(`page-${i}`, ecdsaP256.publicKey));
    expect(names(await acme.json('GET', '/v1/signature-validators?name=page-4'))).toEqual(['page-4']);
    const first = await acme.json('GET', '/v1/signature-validators?name=page-*&limit=3');
    expect(names(first)).toEqual(['page-0', 'page-1', 'page-2']);
    const second = await acme.json('GET', `/v1/signature-validators?name=page-*&limit=3&cursor=${first.body.nextCursor}`);
    expect(names(second)).toEqual(['page-3', 'page-4']);
    expect(second.body.nextCursor).toBeUndefined();
    for (const query of ['cursor=garbage', 'limit=-1', 'method=keyless']) {
      const bad = await acme.json('GET', `/v1/signature-validators?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.headers.get('content-type')).toBe(PROBLEM);
    }
  });

  it('answers 409 for a duplicate name', async () => {
    await createValidator(acme, withKey('dup', ecdsaP256.publicKey));
    const again = await acme.json('POST', '/v1/signature-validators', { ...keyless, name: 'dup' });
    expect(again.status).toBe(409);
    expect(again.headers.get('content-type')).toBe(PROBLEM);
    expect(again.body.errors).toEqual([{ pointer: '/name', detail: 'already taken' }]);
    const other = await createValidator(acme, withKey('dup-2', ecdsaP256.publicKey));
    expect((await acme.json('PATCH', `/v1/signature-validators/${other.body.id}`, { name: 'dup' })).status).toBe(409);
    expect((await acme.json('GET', `/v1/signature-validators/${other.body.id}`)).body.name).toBe('dup-2');
  });

  it('honours If-Match', async () => {
    const created = await createValidator(acme, withKey('etag', ecdsaP256.publicKey));
    const id = created.body.id as string;
    expect((await acme.json('PATCH', `/v1/signature-validators/${id}`, { description: 'v2' }, { 'if-match': created.headers.get('etag')! })).status).toBe(200);
    await expectStaleRefused(acme, `/v1/signature-validators/${id}`, { stale: '"1"', replaceBody: withKey('etag', rsa.publicKey), patchBody: { description: 'stale' } });
    const now = await acme.json('GET', `/v1/signature-validators/${id}`);
    expect(now.body).toMatchObject({ description: 'v2', verification: { publicKey: ecdsaP256.publicKey } });
    const put = await acme.json('PUT', `/v1/signature-validators/${id}`, withKey('etag', rsa.publicKey), { 'if-match': now.headers.get('etag')! });
    expect(put.status).toBe(200);
    expect((await acme.request('DELETE', `/v1/signature-validators/${id}`, undefined, { 'if-match': put.headers.get('etag')! })).status).toBe(204);
  });

  it('needs signatureValidators.manage to write; signatureValidators.view reads', async () => {
    const created = await createValidator(acme, withKey('rights', ecdsaP256.publicKey));
    await expectViewOnly(h, acme, {
      path: '/v1/signature-validators',
      created,
      createBody: withKey('viewer-made', ecdsaP256.publicKey),
      replaceBody: withKey('rights', rsa.publicKey),
      patchBody: { description: 'x' },
      viewRight: 'signatureValidators.view',
      manageRight: 'signatureValidators.manage',
      outsiderRights: ['runtimeProfiles.view'],
      listQuery: '?name=rights',
    });
  });

  it('hides a validator from another tenant on every endpoint', async () => {
    const created = await createValidator(acme, { ...keyless, name: 'secret-validator' });
    const id = created.body.id as string;
    expect(created.headers.get('etag')).toBe('"1"');
    await expectHiddenFromOtherTenant(acme, globex, { path: '/v1/signature-validators', created, replaceBody: withKey('stolen', ecdsaP256.publicKey), patchBody: { description: 'stolen' } });
    expect(names(await globex.json('GET', '/v1/signature-validators?name=secret-*'))).toEqual([]);

    const scope = await globex.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod' }] });
    const policy = await globex.json('POST', '/v1/runtime-policies', {
      name: 'steal',
      mode: 'audit',
      scopeIds: [scope.body.id],
      imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/globex/**', verify: true, validatorId: id }] },
    });
    expect(policy.status).toBe(422);
    expect(pointers(policy)).toEqual(['/imageContentProtection/rules/0/validatorId']);
  });

  it('refuses to delete a validator a runtime policy uses, naming the policy', async () => {
    const validator = await createValidator(acme, withKey('in-use', ecdsaP256.publicKey));
    const scope = await acme.json('POST', '/v1/scopes', { name: 'in-use-scope', resources: [{ type: 'namespace', cluster: 'prod-eu', namespace: 'payments' }] });
    expect(scope.status).toBe(201);
    const policies = [];
    for (const name of ['signed-images', 'signed-images-2']) {
      const policy = await acme.json('POST', '/v1/runtime-policies', {
        name,
        mode: 'enforce',
        scopeIds: [scope.body.id],
        imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId: validator.body.id }] },
      });
      expect(policy.status).toBe(201);
      policies.push(policy.body);
    }

    const refused = await acme.json('DELETE', `/v1/signature-validators/${validator.body.id}`);
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toBe(PROBLEM);
    expect(refused.body.type).toBe('https://palisade.dev/problems/in-use');
    expect(refused.body.policies).toHaveLength(2);
    expect(refused.body.policies).toEqual(expect.arrayContaining(policies.map((p) => ({ id: p.id, name: p.name }))));
    expect(refused.body.detail).toContain('signed-images');
    expect((await acme.json('GET', `/v1/signature-validators/${validator.body.id}`)).status).toBe(200);

    for (const p of policies) expect((await acme.request('DELETE', `/v1/runtime-policies/${p.id}`)).status).toBe(204);
    expect((await acme.request('DELETE', `/v1/signature-validators/${validator.body.id}`)).status).toBe(204);
  });
});
