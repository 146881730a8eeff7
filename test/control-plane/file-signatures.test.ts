import { createLocalJWKSet, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, sha256Digest } from '../../schema/canonical-json.ts';
import { EICAR_SIGNATURE, SignatureSetDocument } from '../../schema/file-signatures.ts';
import { MAX_EFFECTIVE_SIGNATURES, mergeSignatureSets } from '../../schema/file-signature-sets.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { keyWithRights, TEST_ISSUER } from '../support/harness.ts';
import { expectHiddenFromOtherTenant, expectProblem, mustCreate, withTenants } from '../support/resource-checks.ts';

const { h, acme, globex, initech } = await withTenants('acme', 'globex', 'initech');
const SETS = '/v1/file-signature-sets';

const NDB = ['Test.Elf.Marker:6:*:7f454c46{-16}deadbeef', 'Test.Any.Tail:0:EOF-8:cafe??babe', 'Test.Alt:0:*:4142(43|44)45'].join('\n') + '\n';
const HDB = '44d88612fea8a8f36de82e1278abb02f:68:Test.Hdb.Eicar\n';
const HSB = `${'ab'.repeat(32)}:*:Test.Hsb.AnySize\n${'cd'.repeat(32)}:1024:Test.Hsb.Sized\n`;
const OURS = [
  { type: 'body', name: 'Test.Ours.Body', target: 'pe', offset: '0', pattern: '4d5a??00' },
  { type: 'hash', name: 'Test.Ours.Hash', algorithm: 'sha256', digest: 'ef'.repeat(32), size: 10 },
];

let acmeAgent: Awaited<ReturnType<typeof enrolledCluster>>;
let globexAgent: Awaited<ReturnType<typeof enrolledCluster>>;
beforeAll(async () => {
  acmeAgent = await enrolledCluster(h, acme, 'prod-eu');
  globexAgent = await enrolledCluster(h, globex, 'prod-us');
});

const effective = async (tenant = acme) => (await tenant.json('GET', '/v1/file-signatures')).body as { version: number; digest: string; signatureCount: number };
const pull = (credential: string, headers: Record<string, string> = {}) => agentRequest(h, credential, '/v1/agent/file-signatures', { headers });

describe('uploading signature sets', () => {
  it('imports each format, stores the source as sent and lists sets without their content', async () => {
    const before = await effective();
    expect(before).toMatchObject({ version: 1, signatureCount: 1 });
    const ndb = await mustCreate(acme, SETS, { name: 'custom-ndb', format: 'ndb', content: NDB, description: 'our body signatures' });
    expect(ndb.body).toMatchObject({ name: 'custom-ndb', format: 'ndb', content: NDB, revision: 1, signatureCount: 3, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });
    expect(ndb.headers.get('etag')).toBe('"1"');
    const hdb = await mustCreate(acme, SETS, { name: 'custom-hdb', format: 'hdb', content: HDB });
    expect(hdb.body.signatureCount).toBe(1);
    const hsb = await mustCreate(acme, SETS, { name: 'custom-hsb', format: 'hsb', content: HSB });
    expect(hsb.body.signatureCount).toBe(2);
    const ours = await mustCreate(acme, SETS, { name: 'ours', format: 'palisade', apiVersion: 'palisade.dev/signatures/v1', signatures: OURS });
    expect(ours.body).toMatchObject({ format: 'palisade', signatures: OURS, signatureCount: 2 });

    const got = await acme.json('GET', `${SETS}/${ndb.body.id}`);
    expect(got.body).toEqual(ndb.body);
    const list = await acme.json('GET', SETS);
    expect(list.body.items.map((i: { name: string }) => i.name)).toEqual(['custom-ndb', 'custom-hdb', 'custom-hsb', 'ours']);
    for (const item of list.body.items) {
      expect(item).not.toHaveProperty('content');
      expect(item).not.toHaveProperty('signatures');
    }
    const { content: _, ...summary } = ndb.body;
    expect(list.body.items[0]).toEqual(summary);
    expect((await acme.json('GET', `${SETS}?format=hsb`)).body.items.map((i: { name: string }) => i.name)).toEqual(['custom-hsb']);
    expectProblem(await acme.json('GET', `${SETS}?format=yara`), 400);

    // The effective set: every signature once, EICAR first, one new version per change.
    const after = await effective();
    expect(after).toMatchObject({ version: before.version + 4, signatureCount: 1 + 3 + 1 + 2 + 2 });
    const doc = await acme.request('GET', '/v1/file-signatures/document');
    const text = await doc.text();
    expect(await sha256Digest(text)).toBe(after.digest);
    const parsed = SignatureSetDocument.parse(JSON.parse(text));
    expect(parsed.signatures[0]).toEqual(EICAR_SIGNATURE);
    expect(canonicalJson(parsed)).toBe(text);
  });

  it('refuses unsupported ClamAV lines with problem+json naming each line, and stores nothing', async () => {
    const before = await effective();
    const content = ['Good.One:0:*:41424344', 'Bad.Target:3:*:3c736372697074', 'Good.Two:1:0:4d5a', 'Bad.Offset:0:EP+10:41424344', '', 'Bad.Pattern:0:*:41!(42)4344'].join('\n');
    const res = await acme.json('POST', SETS, { name: 'mixed', format: 'ndb', content });
    expectProblem(res, 422);
    expect(res.body.unsupportedLines).toBe(3);
    expect(res.body.errors).toEqual([
      { pointer: '/content', line: 2, detail: expect.stringMatching(/target type 3 is not supported/) },
      { pointer: '/content', line: 4, detail: expect.stringMatching(/offset "EP\+10" is not supported/) },
      { pointer: '/content', line: 6, detail: expect.stringMatching(/unsupported token/) },
    ]);
    const sha1 = await acme.json('POST', SETS, { name: 'sha1', format: 'hdb', content: `${'a'.repeat(40)}:1:Sha1\n` });
    expect(sha1.body.errors).toEqual([{ pointer: '/content', line: 1, detail: 'SHA-1 hashes are not supported' }]);
    const ours = await acme.json('POST', SETS, { name: 'bad-json', format: 'palisade', signatures: [OURS[0], { type: 'body', name: 'X', pattern: '4?*' }] });
    expectProblem(ours, 422);
    expect(ours.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/signatures/1/pattern']);
    expectProblem(await acme.json('POST', SETS, { name: 'no-content', format: 'ndb' }), 422);
    expectProblem(await acme.json('POST', SETS, { name: 'yara', format: 'yara', content: 'rule x {}' }), 422);
    expect((await acme.json('GET', `${SETS}?name=mixed`)).body.items).toEqual([]);
    expect(await effective()).toEqual(before);
  });

  it('replaces and deletes with revisions and If-Match; each content change is a new effective version', async () => {
    const created = await mustCreate(acme, SETS, { name: 'rotating', format: 'ndb', content: 'Rot.A:0:*:01020304\n' });
    const v0 = (await effective()).version;
    const put = await acme.json('PUT', `${SETS}/${created.body.id}`, { name: 'rotating', format: 'ndb', content: 'Rot.B:0:*:05060708\n' }, { 'if-match': '"1"' });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ revision: 2, signatureCount: 1 });
    expect(put.body.digest).not.toBe(created.body.digest);
    expect((await effective()).version).toBe(v0 + 1);
    // A change of the description alone leaves the effective set (and so the bundles) as they are.
    const patched = await acme.json('PATCH', `${SETS}/${created.body.id}`, { description: 'weekly' }, { 'content-type': 'application/merge-patch+json' });
    expect(patched.body).toMatchObject({ revision: 3, description: 'weekly', content: 'Rot.B:0:*:05060708\n' });
    expect((await effective()).version).toBe(v0 + 1);
    expectProblem(await acme.json('DELETE', `${SETS}/${created.body.id}`, undefined, { 'if-match': '"2"' }), 412);
    expect((await acme.request('DELETE', `${SETS}/${created.body.id}`, undefined, { 'if-match': '"3"' })).status).toBe(204);
    expect((await effective()).version).toBe(v0 + 2);
    expectProblem(await acme.json('GET', `${SETS}/${created.body.id}`), 404);
  });

  it('keeps EICAR in the effective set whatever is uploaded or deleted', async () => {
    const eicarAgain = await mustCreate(acme, SETS, { name: 'eicar-copy', format: 'palisade', signatures: [EICAR_SIGNATURE] });
    expect(eicarAgain.body.signatureCount).toBe(1);
    const doc = SignatureSetDocument.parse(await (await acme.request('GET', '/v1/file-signatures/document')).json());
    expect(doc.signatures.filter((s) => s.name === EICAR_SIGNATURE.name)).toEqual([EICAR_SIGNATURE]);
    await acme.request('DELETE', `${SETS}/${eicarAgain.body.id}`);
    const none = SignatureSetDocument.parse(await (await globex.request('GET', '/v1/file-signatures/document')).json());
    expect(none.signatures).toEqual([EICAR_SIGNATURE]);
  });

  it('caps uploads by size', async () => {
    const big = 'X'.repeat(9 * 1024 * 1024);
    expectProblem(await acme.json('POST', SETS, { name: 'huge', format: 'ndb', content: big }), 413);
  });

  it('refuses a change that would take the effective set past what agents accept, and keeps the set as it was', async () => {
    const half = MAX_EFFECTIVE_SIGNATURES / 2;
    const lines = (prefix: string) => Array.from({ length: half }, (_, i) => `${prefix}.${i}:0:*:${i.toString(16).padStart(8, '0')}${prefix === 'A' ? 'aa' : 'bb'}`).join('\n');
    expect((await initech.json('POST', SETS, { name: 'a', format: 'ndb', content: lines('A') })).status).toBe(201);
    const before = await effective(initech);
    expect(before.signatureCount).toBe(half + 1);
    const over = await initech.json('POST', SETS, { name: 'b', format: 'ndb', content: lines('B') });
    expectProblem(over, 413);
    expect(over.body.detail).toMatch(new RegExp(`${MAX_EFFECTIVE_SIGNATURES + 1} signatures`));
    expect(await effective(initech)).toEqual(before);
    expect((await initech.json('GET', `${SETS}?name=b`)).body.items).toEqual([]);
    // The limit is the document format's: one more and no agent would take the set.
    expect(SignatureSetDocument.safeParse({ apiVersion: 'palisade.dev/signatures/v1', name: 'x', signatures: Array(MAX_EFFECTIVE_SIGNATURES + 1).fill(EICAR_SIGNATURE) }).success).toBe(false);
  }, 120_000);

  it('needs fileThreatProtection.manage to change sets; fileThreatProtection.view reads them', async () => {
    const viewer = h.as(acme, await keyWithRights(acme, ['fileThreatProtection.view']));
    expect((await viewer.json('GET', SETS)).status).toBe(200);
    expect((await viewer.json('GET', '/v1/file-signatures')).status).toBe(200);
    const denied = await viewer.json('POST', SETS, { name: 'nope', format: 'hdb', content: HDB });
    expectProblem(denied, 403);
    expect(denied.body.missingRights).toEqual(['fileThreatProtection.manage']);
    const outsider = h.as(acme, await keyWithRights(acme, ['runtimePolicies.view']));
    for (const path of [SETS, '/v1/file-signatures', '/v1/file-signatures/document']) expectProblem(await outsider.json('GET', path), 403, path);
  });
});

describe('tenant isolation', () => {
  it("another tenant cannot read, replace or delete a tenant's sets, and its agents get only their own tenant's set", async () => {
    const created = await mustCreate(acme, SETS, { name: 'private-ndb', format: 'ndb', content: 'Acme.Secret:0:*:0badc0de\n' });
    await expectHiddenFromOtherTenant(acme, globex, {
      path: SETS,
      created,
      replaceBody: { name: 'private-ndb', format: 'ndb', content: 'Taken:0:*:00\n' },
      patchBody: { content: 'Taken:0:*:00\n' },
      listQueries: ['', '?name=private-ndb', '?format=ndb'],
    });
    const acmeSet = await effective(acme);
    const globexSet = await effective(globex);
    expect(globexSet.digest).not.toBe(acmeSet.digest);
    // The tenant comes from the credential: globex's agent, even sending acme's ETag, gets globex's set.
    const res = await pull(globexAgent.credential, { 'if-none-match': `"${acmeSet.version}.${acmeSet.digest.slice(7, 39)}"` });
    expect(res.status).toBe(200);
    expect(res.headers.get('palisade-signatures-digest')).toBe(globexSet.digest);
    expect(await res.text()).not.toContain('Acme.Secret');
    // API keys are not agent credentials.
    expectProblem(await (async () => { const r = await pull(acme.key); return { status: r.status, headers: r.headers, body: await r.json() }; })(), 401);
  });
});

describe('GET /v1/agent/file-signatures', () => {
  it('serves the effective set signed with the bundle keys, 304 for the current ETag, gzip when accepted', async () => {
    const facts = await effective();
    const res = await pull(acmeAgent.credential);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/jose');
    expect(res.headers.get('palisade-signatures-version')).toBe(String(facts.version));
    const jws = await res.text();
    const { payload, protectedHeader } = await jwtVerify(jws, createLocalJWKSet(acmeAgent.jwks as never), { issuer: TEST_ISSUER, typ: 'palisade-signatures+jwt' });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'palisade-signatures+jwt' });
    expect(payload).toMatchObject({ tid: acme.id, ver: facts.version, dig: facts.digest });
    expect(await sha256Digest(canonicalJson(payload.signatures))).toBe(facts.digest);
    expect((await mergeSignatureSets([(payload.signatures as { signatures: never[] }).signatures])).digest).toBe(facts.digest);

    const etag = res.headers.get('etag')!;
    const signings = h.app.signatureSets.signings;
    for (let i = 0; i < 3; i++) expect((await pull(acmeAgent.credential, { 'if-none-match': etag })).status).toBe(304);
    expect(h.app.signatureSets.signings).toBe(signings);
    const zipped = await pull(acmeAgent.credential, { 'accept-encoding': 'gzip' });
    expect(zipped.headers.get('content-encoding')).toBe('gzip');
    expect(await new Response(zipped.body!.pipeThrough(new DecompressionStream('gzip'))).text()).toBe(jws);

    await mustCreate(acme, SETS, { name: 'later', format: 'hdb', content: `${'12'.repeat(16)}:5:Later\n` });
    const changed = await pull(acmeAgent.credential, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Number(changed.headers.get('palisade-signatures-version'))).toBe(facts.version + 1);
  });

  it('refuses requests without a cluster credential', async () => {
    expect((await h.app.request('/v1/agent/file-signatures')).status).toBe(401);
    expect((await pull('not-a-credential')).status).toBe(401);
  });
});
