import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignatureValidatorInput } from '../../../schema/signature-validators.ts';
import { OciClient } from '../../src/oci/client.ts';
import { SignatureVerifier } from '../../src/signatures/verifier.ts';
import { attachBundle, FakeRegistry, fakeImage } from '../support/fake-registry.ts';
import { hasRegistry, payloadFor, Pusher, pushImage, signLegacy, startRegistry, type LocalRegistry } from '../support/oci-registry.ts';
import { decide, signatureBundle } from '../support/signature-bundle.ts';
import { keyedBundle, keylessBundle, legacyKeyless, mockSigstore, type MockSigstore } from '../support/sigstore-signing.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKey = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const WORKFLOW = 'https://github.com/acme/web/.github/workflows/release.yml@refs/heads/main';
const GITHUB = 'https://token.actions.githubusercontent.com';

describe('cosign v3 bundles as OCI 1.1 referrers (in-process registry with the referrers API, Bearer tokens, blob redirects)', () => {
  let reg: FakeRegistry;
  let sigstore: MockSigstore;
  const verifier = () => new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }), tagTtlMs: 0 });
  const keylessRules = (identity: Record<string, string>) =>
    signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'ci' }], validators: { ci: { verification: { method: 'keyless', identities: [identity], trustedRoot: sigstore.trustedRoot } } } });

  beforeAll(async () => {
    reg = await new FakeRegistry().start();
    sigstore = await mockSigstore();
  });
  afterAll(() => reg?.stop());

  it('admits a keyed v3 bundle; the token flow ran and blob storage never saw the Authorization header', async () => {
    const img = fakeImage(reg, 'acme/keyed', 'v1', 'keyed');
    attachBundle(reg, 'acme/keyed', img, keyedBundle(ec.privateKey, img.digest));
    const b = await signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'k' }], validators: { k: { verification: { method: 'publicKey', publicKey } } } });
    const d = await decide(b, verifier(), `${reg.host}/acme/keyed:v1`);
    expect(d.findings).toEqual([]);
    expect(d.allowed).toBe(true);
    expect(reg.tokenRequests).toBeGreaterThan(0);
    expect(reg.storageSawAuthorization).toBe(false);
  });

  it('refuses a keyed bundle whose statement names another digest', async () => {
    const v1 = fakeImage(reg, 'acme/stmt', 'v1', 'stmt-1');
    const v2 = fakeImage(reg, 'acme/stmt', 'v2', 'stmt-2');
    attachBundle(reg, 'acme/stmt', v2, keyedBundle(ec.privateKey, v2.digest, { statementDigest: v1.digest }));
    const b = await signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'k' }], validators: { k: { verification: { method: 'publicKey', publicKey } } } });
    const d = await decide(b, verifier(), `${reg.host}/acme/stmt:v2`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('another digest');
  });

  it('admits a keyless signature with the right identity (mock Fulcio CA and TSA, uploaded trusted root)', async () => {
    const img = fakeImage(reg, 'acme/keyless', 'v1', 'keyless');
    attachBundle(reg, 'acme/keyless', img, await keylessBundle(sigstore, img.digest, { subject: WORKFLOW, issuer: GITHUB }));
    const d = await decide(await keylessRules({ issuer: GITHUB, subjectRegExp: 'https://github\\.com/acme/.*' }), verifier(), `${reg.host}/acme/keyless:v1`);
    expect(d.findings).toEqual([]);
  });

  it('denies a keyless signature by another identity, and a regular expression must match the whole subject', async () => {
    const img = fakeImage(reg, 'acme/evil', 'v1', 'evil');
    attachBundle(reg, 'acme/evil', img, await keylessBundle(sigstore, img.digest, { subject: 'https://github.com/evil/web/.github/workflows/x.yml@refs/heads/main', issuer: GITHUB }));
    const d = await decide(await keylessRules({ issuer: GITHUB, subjectRegExp: 'https://github\\.com/acme/' }), verifier(), `${reg.host}/acme/evil:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('signed only by another identity');
    const prefixOnly = await decide(await keylessRules({ issuer: GITHUB, subjectRegExp: 'https://github\\.com/evil/' }), verifier(), `${reg.host}/acme/evil:v1`);
    expect(prefixOnly.allowed).toBe(false);
    const wrongIssuer = await decide(await keylessRules({ issuer: 'https://accounts.google.com', subject: 'https://github.com/evil/web/.github/workflows/x.yml@refs/heads/main' }), verifier(), `${reg.host}/acme/evil:v1`);
    expect(wrongIssuer.allowed).toBe(false);
  });

  it('denies a keyless signature without any timestamp', async () => {
    const img = fakeImage(reg, 'acme/nots', 'v1', 'nots');
    attachBundle(reg, 'acme/nots', img, await keylessBundle(sigstore, img.digest, { subject: WORKFLOW, issuer: GITHUB }, { timestamp: false }));
    const d = await decide(await keylessRules({ issuer: GITHUB, subject: WORKFLOW }), verifier(), `${reg.host}/acme/nots:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toMatch(/timestamp/);
  });

  it('does not count attestations (another predicate type) as image signatures', async () => {
    const img = fakeImage(reg, 'acme/attest', 'v1', 'attest');
    attachBundle(reg, 'acme/attest', img, await keylessBundle(sigstore, img.digest, { subject: WORKFLOW, issuer: GITHUB }, { predicateType: 'https://slsa.dev/provenance/v1' }));
    const d = await decide(await keylessRules({ issuer: GITHUB, subject: WORKFLOW }), verifier(), `${reg.host}/acme/attest:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('no signature found');
  });

  it('validates an uploaded trusted root with the validator', async () => {
    const ok = await SignatureValidatorInput.safeParseAsync({ name: 'ci', type: 'cosign', verification: { method: 'keyless', identities: [{ issuer: GITHUB, subject: WORKFLOW }], trustedRoot: sigstore.trustedRoot } });
    expect(ok.success).toBe(true);
    const noTime = await SignatureValidatorInput.safeParseAsync({ name: 'ci', type: 'cosign', verification: { method: 'keyless', identities: [{ issuer: GITHUB, subject: WORKFLOW }], trustedRoot: { ...sigstore.trustedRoot, timestampAuthorities: [] } } });
    expect(noTime.success).toBe(false);
    expect(noTime.error!.issues[0]!.path).toEqual(['verification', 'trustedRoot', 'tlogs']);
    const badB64 = await SignatureValidatorInput.safeParseAsync({ name: 'ci', type: 'cosign', verification: { method: 'keyless', identities: [{ issuer: GITHUB, subject: WORKFLOW }], trustedRoot: { ...sigstore.trustedRoot, certificateAuthorities: [{ certChain: { certificates: [{ rawBytes: 'not base64!' }] }, validFor: { start: '2020-01-01T00:00:00Z' } }] } } });
    expect(badB64.success).toBe(false);
  });
});

describe.skipIf(!hasRegistry())('v3 bundles through the referrers tag schema on docker-registry (no referrers API)', () => {
  let reg: LocalRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
  }, 60_000);
  afterAll(() => reg?.stop());

  it('verifies a legacy keyless signature (certificate and RFC 3161 timestamp annotations) and checks its identity', async () => {
    const sigstore = await mockSigstore();
    const push = new Pusher(reg.host);
    const digest = await pushImage(push, 'acme/legacy-keyless', 'v1', 'legacy-keyless');
    const payload = payloadFor(`${reg.host}/acme/legacy-keyless`, digest);
    const { privateKey, signature, annotations } = await legacyKeyless(sigstore, payload, { subject: WORKFLOW, issuer: GITHUB });
    await signLegacy(push, 'acme/legacy-keyless', digest, privateKey, { payload, signature, extra: annotations });
    const rules = (identity: Record<string, string>) =>
      signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'ci' }], validators: { ci: { verification: { method: 'keyless', identities: [identity], trustedRoot: sigstore.trustedRoot } } } });
    const v = () => new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }) });
    expect((await decide(await rules({ issuer: GITHUB, subject: WORKFLOW }), v(), `${reg.host}/acme/legacy-keyless:v1`)).findings).toEqual([]);
    const other = await decide(await rules({ issuer: GITHUB, subject: 'https://github.com/acme/other' }), v(), `${reg.host}/acme/legacy-keyless:v1`);
    expect(other.allowed).toBe(false);
    expect(other.findings[0]!.message).toContain('another identity');
  });

  it('finds the bundle through the sha256-<hex> index tag', async () => {
    const push = new Pusher(reg.host);
    const digest = await pushImage(push, 'acme/v3', 'v1', 'v3');
    const size = Number((await fetch(`http://${reg.host}/v2/acme/v3/manifests/${digest}`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } })).headers.get('content-length'));
    const blob = await push.blob('acme/v3', Buffer.from(JSON.stringify(keyedBundle(ec.privateKey, digest))));
    const empty = await push.blob('acme/v3', Buffer.from('{}'));
    const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json', config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty }, layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', ...blob }], subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size } };
    const referrer = await push.manifest('acme/v3', 'bundle-1', manifest);
    const referrerSize = Buffer.byteLength(JSON.stringify(manifest));
    await push.manifest('acme/v3', digest.replace(':', '-'), { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: referrer, size: referrerSize, artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json' }] }, 'application/vnd.oci.image.index.v1+json');
    const b = await signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'k' }], validators: { k: { verification: { method: 'publicKey', publicKey } } } });
    const v = new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }) });
    const d = await decide(b, v, `${reg.host}/acme/v3:v1`);
    expect(d.findings).toEqual([]);
    expect(v.cached(`${reg.host}/acme/v3@${digest}`, b.signatureValidators[0]!)).toMatchObject({ status: 'verified', format: 'bundle' });
  });
});
