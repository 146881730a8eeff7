import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { admit, bundleProblem } from '../src/webhook/admission.ts';
import { limitWarnings, WARNING_MAX_CHARS, WARNINGS_MAX_TOTAL } from '../src/webhook/messages.ts';
import { parseAdmissionReview } from '../src/webhook/review.ts';
import { servedBundle } from './support/webhook-server.ts';
import { pod, review } from './support/webhook.ts';

const now = new Date();

describe('admission translation (pure)', () => {
  it('keeps warnings within the API server limits, saying how many were left out', () => {
    const many = Array.from({ length: 100 }, (_, i) => `warning ${i} ${'x'.repeat(i % 2 ? 100 : 400)}`);
    const out = limitWarnings(many);
    expect(out.every((w) => w.length <= WARNING_MAX_CHARS)).toBe(true);
    expect(out.join('').length).toBeLessThanOrEqual(WARNINGS_MAX_TOTAL);
    expect(out.at(-1)).toBe(`Palisade audit: ${100 - out.length + 1} more findings not shown`);
    expect(out[0]).toMatch(/^warning 0 x+\.\.\.$/);
    expect(limitWarnings(['a', 'b'])).toEqual(['a', 'b']);
  });

  it('a pod with many audit findings yields bounded warnings', async () => {
    const containers = Array.from({ length: 60 }, (_, i) => ({ name: `c${i}`, image: `ghcr.io/acme/c${i}:latest`, resources: {} }));
    const { response } = admit(parseAdmissionReview(review(pod('wide', containers))), { bundle: await servedBundle(), now, failurePolicy: 'closed', graceMs: 0 });
    expect(response.allowed).toBe(true);
    expect(response.warnings!.join('').length).toBeLessThanOrEqual(WARNINGS_MAX_TOTAL);
    expect(response.warnings!.at(-1)).toMatch(/^Palisade audit: \d+ more findings not shown$/);
  });

  it('fails closed only for workloads, and says why the bundle is unusable', async () => {
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
    expect(admit(parseAdmissionReview(review(configMap)), { bundle: null, now, failurePolicy: 'closed', graceMs: 0 })).toMatchObject({ reason: 'notWorkload', response: { allowed: true } });
    const expired = await servedBundle({ expiresAt: new Date(now.getTime() - 1000) });
    expect(bundleProblem(expired, now, 1000)).toMatch(/expired at .*, past the grace period/);
    expect(bundleProblem(expired, now, 1001)).toBeNull();
    expect(bundleProblem(null, now, 0)).toBe('no policy bundle has been received yet');
  });
});

describe('purity', () => {
  const FORBIDDEN = [/from ['"]node:/, /\bprocess\./, /\bBuffer\b/, /Date\.now\(/, /new Date\(\)/, /Math\.random/, /\bfetch\(/, /performance\.now/];
  it.each(['admission.ts', 'review.ts', 'messages.ts'])('webhook/%s uses no Node API, clock or randomness (the Worker can share it)', (file) => {
    const source = readFileSync(new URL(`../src/webhook/${file}`, import.meta.url), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
    for (const pattern of FORBIDDEN) expect(source, String(pattern)).not.toMatch(pattern);
  });
});
