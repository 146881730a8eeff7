import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Digest } from '../../schema/canonical-json.ts';
import { mergeSignatureSets } from '../../schema/file-signature-sets.ts';
import { EICAR_SIGNATURE, SignatureSetDocument, type FileSignature } from '../../schema/file-signatures.ts';
import { loadedMachineRuns } from '../support/property.ts';

const hex = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
const name = fc.stringMatching(/^[A-Za-z][A-Za-z0-9.]{0,11}$/);
const signature: fc.Arbitrary<FileSignature> = fc.oneof(
  fc.record({ type: fc.constant('hash' as const), name, algorithm: fc.constant('md5' as const), digest: hex(16), size: fc.option(fc.nat(1000), { nil: null }) }),
  fc.record({ type: fc.constant('body' as const), name, target: fc.constantFrom('any' as const, 'pe' as const, 'elf' as const), offset: fc.constantFrom('*', '0', 'EOF-4'), pattern: hex(4) }),
  fc.constant(EICAR_SIGNATURE),
);

describe('mergeSignatureSets', () => {
  it('gives the same bytes and digest for the same signatures in any order and any split into sets; EICAR first, once', async () => {
    const runs = loadedMachineRuns(150, 20_000);
    await fc.assert(
      fc.asyncProperty(fc.array(signature, { maxLength: 30 }), fc.array(fc.nat(3), { maxLength: 30 }), fc.nat(), runs.counted(async (signatures, cuts, seed) => {
        const whole = await mergeSignatureSets([signatures]);
        const shuffled = [...signatures].sort((a, b) => ((canonicalJson(a).length * 31 + seed) % 7) - ((canonicalJson(b).length * 31 + seed) % 7));
        const sets: FileSignature[][] = [[], [], [], []];
        shuffled.forEach((s, i) => sets[cuts[i] ?? 0]!.push(s, ...(i % 5 === 0 ? [s] : []))); // duplicates too
        const split = await mergeSignatureSets(sets);
        expect(split.canonical).toBe(whole.canonical);
        expect(split.digest).toBe(whole.digest);
        expect(whole.canonical).toBe(canonicalJson(whole.document));
        expect(whole.digest).toBe(await sha256Digest(canonicalJson(whole.document)));
        const parsed = SignatureSetDocument.parse(JSON.parse(whole.canonical));
        expect(parsed.signatures[0]).toEqual(EICAR_SIGNATURE);
        expect(parsed.signatures.filter((s) => canonicalJson(s) === canonicalJson(EICAR_SIGNATURE))).toHaveLength(1);
        expect(whole.signatureCount).toBe(new Set([EICAR_SIGNATURE, ...signatures].map((s) => canonicalJson(s))).size);
      })),
      runs.parameters,
    );
    runs.expectRuns(50);
  }, 60_000);
});
