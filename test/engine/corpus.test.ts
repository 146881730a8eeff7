import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate, type Decision } from '../../agent-sdk/src/engine/index.ts';
import { buildBundle, type CompactBundle } from './support/bundle.ts';
import { readObjects, yamlFiles } from './support/fixtures.ts';

/**
 * The data-driven corpus: each file under corpus/ holds a compact bundle spec and cases, each a real manifest with
 * the decision it must get. Adding a case or a file needs no code. Expected findings are `[policy:]check[@container]`
 * (the policy prefix may be left out in a file with one policy); `runtimeProfiles` maps container to profile names
 * and is compared exactly (`{}` when not given); `policies` optionally maps policy name to its status or skip reason.
 */
interface CorpusCase {
  name: string;
  object: unknown;
  namespace?: string;
  cluster?: string;
  owners?: Array<{ kind: string; name: string }>;
  /** AdmissionReview `userInfo.username`: ownerReferences count only when a controller sent the object. */
  requester?: string;
  now?: string;
  expect: { allowed: boolean; findings?: string[]; runtimeProfiles?: Record<string, string[]>; policies?: Record<string, string>; message?: string };
}
interface CorpusFile extends CompactBundle {
  description?: string;
  now?: string;
  cases: CorpusCase[];
}

const files = yamlFiles(join(import.meta.dirname, 'corpus')).map((file) => ({ file, name: basename(file), spec: readObjects(file)[0] as unknown as CorpusFile }));

const findingKeys = (d: Decision) => d.findings.map((f) => `${f.policy.name}:${f.check}${f.container ? `@${f.container}` : ''}`).sort();
const policyStatus = (d: Decision) => Object.fromEntries(d.policies.map((p) => [p.policy.name, p.reason ?? p.status]));

describe.each(files)('corpus $name', ({ file, spec }) => {
  const { bundle, profileNames } = buildBundle(spec);
  const single = spec.policies.length === 1 ? spec.policies[0]!.name : undefined;
  const qualify = (key: string) => (/^[^:@]+:/.test(key) ? key : single !== undefined ? `${single}:${key}` : key);

  it.each(spec.cases.map((c) => ({ ...c, label: `${basename(file)}: ${c.name}` })))('$label', (c) => {
    const now = new Date(c.now ?? spec.now ?? '2026-06-01T00:00:00Z');
    const decision = evaluate(bundle, { object: c.object, namespace: c.namespace, cluster: c.cluster, owners: c.owners, requester: c.requester }, { now, bundleRevision: 7 });
    expect(findingKeys(decision), JSON.stringify(decision.findings, null, 1)).toEqual((c.expect.findings ?? []).map(qualify).sort());
    expect(decision.allowed).toBe(c.expect.allowed);
    expect(decision.bundleRevision).toBe(7);
    const profiles = Object.fromEntries(Object.entries(decision.runtimeProfiles).map(([k, ids]) => [k, ids.map((id) => profileNames.get(id) ?? id)]));
    expect(profiles).toEqual(c.expect.runtimeProfiles ?? {});
    if (c.expect.policies) expect(policyStatus(decision)).toMatchObject(c.expect.policies);
    if (c.expect.message) expect(decision.message).toContain(c.expect.message);
    expect(decision.message === undefined).toBe(decision.allowed);
  });
});
