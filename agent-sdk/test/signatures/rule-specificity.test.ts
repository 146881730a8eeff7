import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../../schema/image-reference.ts';
import { decidingRule, evaluate, signatureFactKey, signatureNeeds, type SignatureFact } from '../../src/engine/index.ts';
import { podWith, signatureBundle } from '../support/signature-bundle.ts';

const rule = (registryUrlTemplate: string, verify = true) => ({ registryUrlTemplate, verify, ...(verify ? { validatorId: 'v' } : {}) });
const pick = (rules: ReturnType<typeof rule>[], image: string) => decidingRule(rules, parseImageReference(image))?.registryUrlTemplate;

describe('the most specific matching template decides', () => {
  it('a digest-pinned template beats everything', () => {
    const d = `sha256:${'a'.repeat(64)}`;
    expect(pick([rule('ghcr.io/acme/web:1.0'), rule(`ghcr.io/**@${d}`)], `ghcr.io/acme/web:1.0@${d}`)).toBe(`ghcr.io/**@${d}`);
  });
  it('then more name segments without wildcards', () => {
    expect(pick([rule('ghcr.io/**'), rule('ghcr.io/acme/*'), rule('**/web')], 'ghcr.io/acme/web:1')).toBe('ghcr.io/acme/*');
    expect(pick([rule('ghcr.io/acme/*'), rule('ghcr.io/acme/web')], 'ghcr.io/acme/web:1')).toBe('ghcr.io/acme/web');
  });
  it('then no ** over **', () => {
    expect(pick([rule('ghcr.io/**/web'), rule('ghcr.io/*/web')], 'ghcr.io/acme/web')).toBe('ghcr.io/*/web');
  });
  it('then a literal tag over a tag mask over none', () => {
    const rules = [rule('ghcr.io/acme/web'), rule('ghcr.io/acme/web:1.*'), rule('ghcr.io/acme/web:1.2')];
    expect(pick(rules, 'ghcr.io/acme/web:1.2')).toBe('ghcr.io/acme/web:1.2');
    expect(pick(rules, 'ghcr.io/acme/web:1.3')).toBe('ghcr.io/acme/web:1.*');
    expect(pick(rules, 'ghcr.io/acme/web:2')).toBe('ghcr.io/acme/web');
  });
  it('then more literal characters; a tie keeps the first rule; no match means not checked', () => {
    expect(pick([rule('ghcr.io/acme/w*'), rule('ghcr.io/acme/we*')], 'ghcr.io/acme/web')).toBe('ghcr.io/acme/we*');
    expect(pick([rule('ghcr.io/acme/*', false), rule('ghcr.io/acme/*')], 'ghcr.io/acme/web')).toBe('ghcr.io/acme/*');
    expect(decidingRule([rule('ghcr.io/acme/*', false), rule('ghcr.io/acme/*')], parseImageReference('ghcr.io/acme/web'))?.verify).toBe(false);
    expect(pick([rule('quay.io/**')], 'ghcr.io/acme/web')).toBeUndefined();
  });
});

describe('imageContentProtection over facts (pure)', () => {
  const bundle = () =>
    signatureBundle({
      rules: [{ template: 'ghcr.io/**', verify: true, validator: 'k' }, { template: 'ghcr.io/acme/tools/*', verify: false }],
      validators: { k: { verification: { method: 'keyless', identities: [{ issuer: 'https://issuer', subject: 'me' }] } } },
    });

  it("a Don't-check rule that is more specific exempts the image; images no rule matches are not checked", async () => {
    const b = await bundle();
    const input = { object: podWith('ghcr.io/acme/tools/lint:1', 'quay.io/x/y:1') };
    expect(signatureNeeds(b, input)).toEqual([]);
    expect(evaluate(b, input, { now: new Date(), bundleRevision: 1 }).allowed).toBe(true);
  });

  it('without facts (no registry access) a Check rule fails closed, saying signatures were not checked', async () => {
    const d = evaluate(await bundle(), { object: podWith('ghcr.io/acme/web:1') }, { now: new Date(), bundleRevision: 1 });
    expect(d.allowed).toBe(false);
    expect(d.findings[0]!.message).toContain('signatures were not checked');
  });

  it('turns each failure reason into a message and a verified fact into a pass', async () => {
    const b = await bundle();
    const image = 'ghcr.io/acme/web:1';
    const id = b.signatureValidators[0]!.id;
    const run = (fact: SignatureFact) => evaluate(b, { object: podWith(image), signatures: new Map([[signatureFactKey(image, id), fact]]) }, { now: new Date(), bundleRevision: 1 });
    expect(run({ status: 'verified', digest: `sha256:${'b'.repeat(64)}`, format: 'bundle' }).policies[0]!.rules).toContainEqual({ check: 'imageContentProtection', status: 'pass' });
    for (const [reason, text] of [['unsigned', 'no signature found'], ['otherKey', 'another key'], ['otherIdentity', 'another identity'], ['otherDigest', 'another digest'], ['registryUnreachable', 'registry unreachable'], ['deadlineExceeded', 'deadline exceeded']] as const) {
      const d = run({ status: 'failed', reason, detail: 'x' });
      expect(d.allowed).toBe(false);
      expect(d.findings[0]!.message).toContain(text);
      expect(d.findings[0]!.message).toContain('rule "ghcr.io/**", validator "k"');
    }
  });
});
