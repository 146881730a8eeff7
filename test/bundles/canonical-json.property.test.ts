import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../schema/canonical-json.ts';

/** The definition the fast serializer must keep: sorted keys (UTF-16 code units), no whitespace, undefined dropped. */
function reference(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${reference(v)}`).join(',')}}`;
  }
  throw new TypeError(`canonical JSON cannot hold ${typeof value}`);
}

describe('canonicalJson', () => {
  it('gives the bytes of the reference definition for any JSON-like value', () => {
    const key = fc.oneof(fc.string(), fc.constantFrom('10', '9', '01', 'a', 'B', 'é', '\u{1F600}', '__proto__x'));
    const leaf = fc.oneof(fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(undefined));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value')), fc.dictionary(key, tie('value'))),
    }));
    fc.assert(
      fc.property(value, (v) => {
        if (v === undefined) return;
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what JSON cannot hold', () => {
    for (const bad of [NaN, Infinity, 1n, () => 1, Symbol('x')]) expect(() => canonicalJson(bad)).toThrow(TypeError);
    expect(() => canonicalJson({ a: [NaN] })).toThrow(TypeError);
  });
});
