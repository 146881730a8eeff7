import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SignatureValidatorInput } from '../../../schema/signature-validators.ts';
import type { BundleValidator } from '../../src/engine/index.ts';
import { prepareValidator } from '../../src/signatures/validators.ts';
import { verifyArtifactBundle } from '../../src/signatures/verify.ts';

/** sigstore-conformance's bundle-verify cases (../shared/conformance/sigstore), run through the agent's verifier. */
const ROOT = join(import.meta.dirname, '../../../../shared/conformance/sigstore/bundle-verify');
const BEACON = 'https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main';
const GITHUB = 'https://token.actions.githubusercontent.com';

/**
 * Cases where the outcome differs from upstream's expectation, each with the reason. Keep this list short and
 * explained: anything else disagreeing fails the test.
 */
const GAPS: Record<string, string> = {};

const cases = existsSync(ROOT) ? readdirSync(ROOT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort() : [];

/** As the control plane would take the validator (the API's validation), then verified as the agent does. */
async function run(name: string): Promise<{ passed: boolean; detail: string }> {
  const dir = join(ROOT, name);
  const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
  const artifact = existsSync(join(dir, 'artifact')) ? readFileSync(join(dir, 'artifact')) : readFileSync(join(ROOT, 'a.txt'));
  const key = read('key.pub');
  const root = read('trusted_root.json');
  const trustedRoot = root ? { trustedRoot: JSON.parse(root) } : {};
  const verification = key
    ? { method: 'publicKey' as const, publicKey: key, ...trustedRoot }
    : { method: 'keyless' as const, identities: [{ subject: read('identity')?.trim() ?? BEACON, issuer: read('issuer')?.trim() ?? GITHUB }], ...trustedRoot };
  const parsed = await SignatureValidatorInput.safeParseAsync({ name: 'conformance', type: 'cosign', verification });
  if (!parsed.success) return { passed: false, detail: `validator refused: ${parsed.error.issues.map((i) => `/${i.path.join('/')}: ${i.message}`).join('; ')}` };
  const validator = { ...parsed.data, id: name } as BundleValidator;
  let json: unknown;
  try {
    json = JSON.parse(read('bundle.sigstore.json')!);
  } catch (err) {
    return { passed: false, detail: `bundle is not JSON: ${(err as Error).message}` };
  }
  try {
    const outcome = verifyArtifactBundle(prepareValidator(validator), json, artifact);
    return { passed: outcome.result === 'verified', detail: 'detail' in outcome ? outcome.detail : 'verified' };
  } catch (err) {
    return { passed: false, detail: `threw: ${(err as Error).message}` };
  }
}

describe.skipIf(cases.length === 0)('Sigstore conformance: bundle-verify', () => {
  it('has the 70 cases', () => expect(cases).toHaveLength(70));

  it.each(cases)('%s', async (name) => {
    const expected = !name.endsWith('_fail');
    const { passed, detail } = await run(name);
    if (GAPS[name]) expect(passed, `${name} is a documented gap (${GAPS[name]}); it now agrees: remove it from GAPS`).toBe(!expected);
    else expect(passed, `${name}: ${detail}`).toBe(expected);
  });
});
