import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../../agent-sdk/src/engine/index.ts';
import { buildBundle } from './support/bundle.ts';
import { PSA_DIR, readObjects, yamlFiles } from './support/fixtures.ts';

/**
 * Kubernetes v1.37 Pod Security Admission fixtures, used as they are: a policy limiting container privileges with the
 * preset of a level must deny (in Enforce mode) every pod of that level's fail/ and allow every pod of its pass/.
 */
type Level = 'baseline' | 'restricted';
const LEVELS: Level[] = ['baseline', 'restricted'];
const now = new Date('2026-01-01T00:00:00Z');
const bundleFor = (preset: Level, mode: 'audit' | 'enforce') => buildBundle({ policies: [{ name: `pss-${preset}`, mode, limitContainerPrivileges: { enabled: true, preset } }] }).bundle;
const decide = (preset: Level, object: unknown, mode: 'audit' | 'enforce' = 'enforce') => evaluate(bundleFor(preset, mode), { object, namespace: 'psa' }, { now, bundleRevision: 1 });

/** Under restricted, these baseline checks are replaced (PSA's OverrideCheckIDs), so a fixture named after one fails the replacement. */
const OVERRIDES: Record<string, string> = { hostpathvolumes: 'restrictedvolumes', capabilities_baseline: 'capabilities_restricted', seccompprofile_baseline: 'seccompprofile_restricted', procmount: 'procmount_restricted' };
const expectedCheck = (level: Level, file: string) => {
  const named = basename(file, '.yaml').replace(/\d+$/, '');
  return level === 'restricted' ? (OVERRIDES[named] ?? named) : named;
};

const fixtures = LEVELS.flatMap((level) =>
  (['pass', 'fail'] as const).flatMap((outcome) =>
    yamlFiles(join(PSA_DIR, level, outcome)).flatMap((file) => readObjects(file).map((object, i) => ({ level, outcome, file, object, label: `${level}/${outcome}/${basename(file)}#${i}` }))),
  ),
);

const asDeployment = (pod: Record<string, unknown>) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'wrapped' },
  spec: { selector: {}, template: { metadata: pod.metadata, spec: pod.spec } },
});
const asCronJob = (pod: Record<string, unknown>) => ({
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: { name: 'wrapped' },
  spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { metadata: pod.metadata, spec: pod.spec } } } },
});

describe('Pod Security Admission v1.37 conformance', () => {
  it('reads every fixture', () => {
    // 148 files at v1.37 (34 + 15 baseline, 76 + 23 restricted), one Pod each; every folder must hold some.
    for (const level of LEVELS) for (const outcome of ['pass', 'fail']) expect(fixtures.filter((f) => f.level === level && f.outcome === outcome).length).toBeGreaterThan(0);
    expect(fixtures.length).toBeGreaterThanOrEqual(LEVELS.flatMap((l) => ['pass', 'fail'].flatMap((o) => yamlFiles(join(PSA_DIR, l, o)))).length);
    expect(fixtures.every((f) => f.object.kind === 'Pod')).toBe(true);
  });

  it.each(fixtures)('$label', ({ level, outcome, file, object }) => {
    const decision = decide(level, object);
    expect(decision.allowed, decision.message).toBe(outcome === 'pass');
    if (outcome === 'pass') expect(decision.findings).toEqual([]);
    else expect(decision.findings.map((f) => f.check.split('.').pop()!.toLowerCase())).toContain(expectedCheck(level, file));
    // The same pod template inside workloads decides the same.
    for (const wrapped of [asDeployment(object), asCronJob(object)]) expect(decide(level, wrapped).allowed).toBe(decision.allowed);
    // Audit mode reports the same findings and never denies.
    const audit = decide(level, object, 'audit');
    expect(audit.allowed).toBe(true);
    expect(audit.findings.map((f) => f.check)).toEqual(decision.findings.map((f) => f.check));
  });

  it('restricted is at least as strict as baseline on every fixture', () => {
    for (const f of fixtures) if (!decide('baseline', f.object).allowed) expect(decide('restricted', f.object).allowed, f.label).toBe(false);
  });
});
