import { describe, expect, it } from 'vitest';
import { matchesMask } from '../../schema/masks.ts';
import { matchesImageTemplate } from '../../schema/image-template.ts';
import { evaluate } from '../src/engine/index.ts';
import { buildBundle } from '../../test/engine/support/bundle.ts';

/**
 * Exclusion masks and image URL templates come from the bundle; the names and images they meet come from whoever
 * creates the workload. With backtracking matchers these inputs ran for hours; the matchers must stay linear in
 * pattern × input, so these cases finish (the test timeout is the only clock) and still decide correctly.
 */
describe('bundle-supplied masks and templates cannot stall a decision', () => {
  const now = new Date('2026-06-01T00:00:00Z');
  const privileged = { securityContext: { privileged: true } };

  it('a Pod exclusion mask with many stars against a long pod name', () => {
    const { bundle } = buildBundle({
      policies: [{ name: 'p', mode: 'enforce', limitContainerPrivileges: { enabled: true, settings: ['privileged'] }, exclusions: { enabled: true, items: [{ kind: 'Pod', name: '*-*-*-*-*-*-*-*-*-*-prod', namespace: '*' }] } }],
    });
    const object = { kind: 'Pod', metadata: { name: Array(120).fill('a').join('-') }, spec: { containers: [{ name: 'c', image: 'nginx:1', ...privileged }] } };
    expect(evaluate(bundle, { object, namespace: 'ns' }, { now, bundleRevision: 1 }).allowed).toBe(false);
    expect(matchesMask('*-*-*-*-*-*-*-*-*-*-prod', `${Array(5000).fill('a').join('-')}-prod`)).toBe(true);
  });

  it('an Image exclusion template with many stars against a long image name', () => {
    const template = 'ghcr.io/acme/*-*-*-*-*-*-*-*-x';
    const { bundle } = buildBundle({
      policies: [{ name: 'p', mode: 'enforce', limitContainerPrivileges: { enabled: true, settings: ['privileged'] }, exclusions: { enabled: true, items: [{ kind: 'Image', name: template }] } }],
    });
    const long = Array(2000).fill('a').join('-');
    const object = { kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: `ghcr.io/acme/${long}:1`, ...privileged }] } };
    expect(evaluate(bundle, { object, namespace: 'ns' }, { now, bundleRevision: 1 }).allowed).toBe(false);
    expect(matchesImageTemplate(template, `ghcr.io/acme/${long}-x:1`)).toBe(true);
    expect(matchesImageTemplate('ghcr.io/**/**/**/**/x', `ghcr.io/${Array(2000).fill('a').join('/')}/y`)).toBe(false);
  });
});
