import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/engine/index.ts';
import { OciClient } from '../../src/oci/client.ts';
import { SignatureVerifier } from '../../src/signatures/verifier.ts';
import { hasRegistry, payloadFor, Pusher, pushImage, signLegacy, startRegistry, type LocalRegistry } from '../support/oci-registry.ts';
import { decide, podWith, signatureBundle } from '../support/signature-bundle.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: typeof ec) => k.publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe.skipIf(!hasRegistry())('image signatures against a real registry (docker-registry)', () => {
  let reg: LocalRegistry;
  let push: Pusher;
  const verifier = (o: Partial<ConstructorParameters<typeof SignatureVerifier>[0]> = {}) => new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }), tagTtlMs: 0, ...o });
  const bundle = (mode: 'audit' | 'enforce' = 'enforce', extra: Record<string, unknown> = {}) =>
    signatureBundle({ mode, rules: [{ template: `${reg.host}/**`, verify: true, validator: 'release' }], validators: { release: { verification: { method: 'publicKey', publicKey: pem(ec) }, ...extra } } });

  beforeAll(async () => {
    reg = await startRegistry();
    push = new Pusher(reg.host);
  }, 60_000);
  afterAll(() => reg?.stop());

  it('admits an image signed with the validator key, by tag and by digest, and caches the result', async () => {
    const digest = await pushImage(push, 'acme/web', 'v1', 'web-v1');
    await signLegacy(push, 'acme/web', digest, ec.privateKey);
    const b = await bundle();
    const v = verifier();
    expect((await decide(b, v, `${reg.host}/acme/web:v1`)).allowed).toBe(true);
    expect((await decide(b, v, `${reg.host}/acme/web@${digest}`)).allowed).toBe(true);
    expect(v.verifications).toBe(1);
    expect(v.cached(`${reg.host}/acme/web@${digest}`, b.signatureValidators[0]!)).toMatchObject({ status: 'verified', digest, format: 'legacy' });
  });

  it('accepts the dev.sigstore.cosign annotation spelling', async () => {
    const digest = await pushImage(push, 'acme/alt', 'v1', 'alt');
    await signLegacy(push, 'acme/alt', digest, ec.privateKey, { prefix: 'dev.sigstore.cosign' });
    expect((await decide(await bundle(), verifier(), `${reg.host}/acme/alt:v1`)).allowed).toBe(true);
  });

  it('denies an unsigned image in Enforce mode and warns in Audit mode; the audit event carries the result', async () => {
    const digest = await pushImage(push, 'acme/unsigned', 'v1', 'unsigned');
    const image = `${reg.host}/acme/unsigned:v1`;
    const d = await decide(await bundle(), verifier(), image);
    expect(d.allowed).toBe(false);
    expect(d.findings).toEqual([expect.objectContaining({ check: 'imageContentProtection', container: 'c0', digest, mode: 'enforce' })]);
    expect(d.findings[0]!.message).toContain('no signature found');
    expect(d.findings[0]!.message).toContain(digest);
    expect(d.findings[0]!.message).toContain('validator "release"');
    const audit = await decide(await bundle('audit'), verifier(), image);
    expect(audit.allowed).toBe(true);
    expect(audit.findings[0]).toMatchObject({ mode: 'audit', check: 'imageContentProtection' });
    const [event] = auditEvents(d, { object: podWith(image) }, { newId: () => '0190a0b0-0000-7000-8000-000000000000', now: new Date() });
    expect(event).toMatchObject({ verdict: 'blocked', workload: { image, digest }, checks: [{ id: 'imageContentProtection' }] });
  });

  it('denies an image signed by another key', async () => {
    const digest = await pushImage(push, 'acme/other', 'v1', 'other');
    await signLegacy(push, 'acme/other', digest, other.privateKey);
    const d = await decide(await bundle(), verifier(), `${reg.host}/acme/other:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('signed only by another key');
  });

  it("denies v1's signature replayed onto v2", async () => {
    const v1 = await pushImage(push, 'acme/replay', 'v1', 'replay-1');
    const v2 = await pushImage(push, 'acme/replay', 'v2', 'replay-2');
    // The attacker copies v1's valid signature (payload naming v1) to v2's signature tag.
    await signLegacy(push, 'acme/replay', v2, ec.privateKey, { payload: payloadFor(`${reg.host}/acme/replay`, v1) });
    const d = await decide(await bundle(), verifier(), `${reg.host}/acme/replay:v2`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('the signature is for another digest');
  });

  it('follows a tag moved after signing to the new, unsigned digest', async () => {
    const signed = await pushImage(push, 'acme/moving', 'prod', 'moving-1');
    await signLegacy(push, 'acme/moving', signed, ec.privateKey);
    const v = verifier();
    const b = await bundle();
    expect((await decide(b, v, `${reg.host}/acme/moving:prod`)).allowed).toBe(true);
    const moved = await pushImage(push, 'acme/moving', 'prod', 'moving-2');
    const d = await decide(b, v, `${reg.host}/acme/moving:prod`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]).toMatchObject({ digest: moved });
  });

  it('refuses a payload with duplicate (case-folded) keys even when the signature is good', async () => {
    const digest = await pushImage(push, 'acme/dup', 'v1', 'dup');
    const payload = Buffer.from(`{"critical":{"identity":{"docker-reference":"x"},"image":{"docker-manifest-digest":"${digest}"},"type":"cosign container image signature"},"Critical":{"image":{"docker-manifest-digest":"${digest}"}}}`);
    await signLegacy(push, 'acme/dup', digest, ec.privateKey, { payload });
    const d = await decide(await bundle(), verifier(), `${reg.host}/acme/dup:v1`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('duplicate key');
  });

  it('reads simple-signing keys case-insensitively, as cosign does', async () => {
    const digest = await pushImage(push, 'acme/case', 'v1', 'case');
    const payload = Buffer.from(JSON.stringify({ Critical: { Identity: { 'Docker-Reference': 'x' }, IMAGE: { 'docker-manifest-DIGEST': digest }, Type: 'cosign container image signature' } }));
    await signLegacy(push, 'acme/case', digest, ec.privateKey, { payload });
    expect((await decide(await bundle(), verifier(), `${reg.host}/acme/case:v1`)).allowed).toBe(true);
  });

  it('coalesces concurrent verifications of one digest, and the cache is bounded', async () => {
    const digest = await pushImage(push, 'acme/coalesce', 'v1', 'coalesce');
    await signLegacy(push, 'acme/coalesce', digest, ec.privateKey);
    const validator = (await bundle()).signatureValidators[0]!;
    const v = verifier({ maxEntries: 2 });
    const image = `${reg.host}/acme/coalesce@${digest}`;
    const facts = await Promise.all(Array.from({ length: 10 }, () => v.fact(image, validator)));
    expect(facts.every((f) => f.status === 'verified')).toBe(true);
    expect(v.verifications).toBe(1);
    for (const seed of ['evict-1', 'evict-2']) await v.fact(`${reg.host}/acme/coalesce@${await pushImage(push, 'acme/coalesce', seed, seed)}`, validator);
    expect(v.cached(image, validator)).toBeUndefined();
  });

  it('refuses a manifest over the size cap', async () => {
    const digest = await pushImage(push, 'acme/big', 'v1', 'big');
    await signLegacy(push, 'acme/big', digest, ec.privateKey, { extra: { padding: 'x'.repeat(8000) } });
    const v = new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host], maxManifestBytes: 4096 }), tagTtlMs: 0 });
    const d = await decide(await bundle(), v, `${reg.host}/acme/big@${digest}`);
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toMatch(/over the 4096-byte limit/);
  });
});
