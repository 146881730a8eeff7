import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { PodInfo } from '../../agent-sdk/src/runtime/mapping.ts';
import { planTracingPolicies } from '../../agent-sdk/src/runtime/policy-plan.ts';
import { RuntimeRules } from '../../agent-sdk/src/runtime/rules.ts';
import { compileTracingPolicy } from '../../agent-sdk/src/runtime/tracing-policy.ts';
import { regexLiteralPrefix } from '../../agent-sdk/src/runtime/kernel-matchers.ts';
import { yamlFiles } from '../engine/support/fixtures.ts';
import { crdValidator } from './crd-schema.ts';
import { buildRuntimeBundle, SHARED_FIXTURES } from './support.ts';

const GOLDEN = join(import.meta.dirname, 'golden');
const validateNamespaced = crdValidator('cilium.io_tracingpoliciesnamespaced.yaml');
const validateCluster = crdValidator('cilium.io_tracingpolicies.yaml');

const { bundle } = buildRuntimeBundle({
  runtimeProfiles: [
    {
      name: 'block-tools',
      executables: {
        enabled: true, mode: 'blockListed',
        executables: [{ path: '/usr/bin/nc' }, { path: '/usr/bin/ncat' }, { path: '/usr/bin/wget*' }, { path: '/*/curl' }, { path: '/opt/*/miner' }, { regex: '^/tmp/' }],
        exclusions: [{ path: '/usr/bin/wget-safe' }, { regex: '^/opt/vendor/(a|b)$' }],
      },
    },
    { name: 'web-only', executables: { enabled: true, mode: 'allowListedOnly', executables: [{ path: '/usr/sbin/nginx' }, { path: '/docker-entrypoint.d/*' }, { path: '/*.sh' }, { regex: '^/usr/lib/nginx/modules/.*\\.so$' }], exclusions: [] } },
    {
      name: 'egress',
      egress: { enabled: true, allowed: [{ cidr: '10.0.0.0/8' }, { cidr: '192.168.1.0/24', ports: ['443', '8000-8003'], protocol: 'TCP' }, { cidr: '2001:db8::/32', ports: ['53'], protocol: 'UDP' }, { fqdn: 'api.example.com', ports: ['443'], protocol: 'TCP' }, { fqdn: '*.example.org' }] },
      ingress: { enabled: true, allowed: [{ cidr: '10.244.0.0/16' }] },
    },
    {
      name: 'many-ports',
      egress: { enabled: true, allowed: ['80', '443', '5432', '6379', '9092', '1-65535'].map((p, i) => ({ cidr: `10.${i}.0.0/16`, ports: [p], protocol: 'TCP' })) },
    },
    { name: 'unanchored', executables: { enabled: true, mode: 'allowListedOnly', executables: [{ regex: 'nginx' }], exclusions: [] } },
  ],
  policies: [
    { name: 'enforce', mode: 'enforce', containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: ['block-tools', 'web-only', 'egress', 'many-ports', 'unanchored'] }] } },
    { name: 'audit', mode: 'audit', containerRuntimeProfiles: { enabled: true, mappings: [{ imageUrlTemplates: ['redis:*'], profileIds: ['block-tools'] }] } },
  ],
});
const profile = (name: string) => bundle.runtimeProfiles.find((p) => p.name === name)!;
const resolved = (fqdn: string) => (fqdn === 'api.example.com' ? ['203.0.113.10', '2001:db8:ffff::10'] : []);
const target = { namespace: 'shop', matchLabels: { app: 'web' }, node: 'node-1' };

/** Compares with the golden file, writing it when missing or when UPDATE_GOLDEN=1 (review the diff before committing). */
function golden(name: string, value: unknown) {
  const file = join(GOLDEN, `${name}.yaml`);
  const text = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
  if (!existsSync(file) || process.env.UPDATE_GOLDEN === '1') writeFileSync(file, text);
  expect(text).toBe(readFileSync(file, 'utf8'));
}

describe('Tetragon TracingPolicyNamespaced compilation', () => {
  it.each([
    ['block-tools', 'enforce'],
    ['web-only', 'enforce'],
    ['egress', 'enforce'],
    ['many-ports', 'enforce'],
    ['block-tools', 'audit'],
  ] as const)('%s in %s mode matches its golden file and the CRD schema', (name, mode) => {
    const compiled = compileTracingPolicy(profile(name), mode, target, { resolved })!;
    expect(validateNamespaced(compiled.object)).toEqual([]);
    golden(`${name}-${mode}`, compiled);
  });

  it('blocks exec with Override (EPERM) only in Enforce mode, after the exclusions', () => {
    const enforce = compileTracingPolicy(profile('block-tools'), 'enforce', target)!.object as any;
    const [hook] = enforce.spec.lsmhooks;
    expect(hook.hook).toBe('bprm_check_security');
    expect(hook.selectors[0]).toEqual({ matchArgs: [{ index: 0, operator: 'Equal', values: ['/usr/bin/wget-safe'] }], matchActions: [{ action: 'NoPost' }] });
    expect(hook.selectors[1].matchArgs[0]).toEqual({ index: 0, operator: 'Prefix', values: ['/opt/vendor/'] });
    expect(hook.selectors.slice(2).map((s: any) => s.matchArgs[0].operator)).toEqual(['Equal', 'Prefix', 'Postfix']);
    expect(hook.selectors[2].matchActions).toEqual([{ action: 'Override', argError: -1 }, { action: 'Post' }]);
    const audit = compileTracingPolicy(profile('block-tools'), 'audit', target)!.object as any;
    expect(JSON.stringify(audit)).not.toContain('Override');
  });

  it('says what stays in user space: inner masks, regexes, ingress, widened ports, unanchored allow lists', () => {
    expect(compileTracingPolicy(profile('block-tools'), 'enforce', target)!.userSpace.join(' ')).toContain('2 block-list entries');
    expect(compileTracingPolicy(profile('egress'), 'enforce', target)!.userSpace.join(' ')).toMatch(/ingress.*not blocked/);
    expect(compileTracingPolicy(profile('many-ports'), 'enforce', target)!.userSpace.join(' ')).toContain('wider than 32 ports');
    expect(compileTracingPolicy(profile('unanchored'), 'enforce', target)).toBeUndefined();
  });

  it('plans one object per profile, mode and pod selector on this node; unlabelled pods stay in user space', () => {
    const rules = new RuntimeRules(bundle, 3);
    const pods: PodInfo[] = [
      { namespace: 'shop', name: 'web-1', labels: { app: 'web', 'pod-template-hash': 'abc' }, owners: [], containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'cache', image: 'redis:7' }] },
      { namespace: 'shop', name: 'web-2', labels: { app: 'web', 'pod-template-hash': 'def' }, owners: [], containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'cache', image: 'redis:7' }] },
      { namespace: 'dev', name: 'bare', labels: {}, owners: [], containers: [{ name: 'redis', image: 'redis:7' }] },
    ];
    const plan = planTracingPolicies(rules, pods, 'node-1', new Date('2026-06-01T00:00:00Z'), resolved);
    const objects = [...plan.objects.values()] as any[];
    // enforce: block-tools, web-only, egress, many-ports (unanchored compiles to nothing); audit: block-tools on the redis container only
    expect(objects).toHaveLength(5);
    for (const o of objects) expect(validateNamespaced(o)).toEqual([]);
    expect(objects.every((o) => o.spec.podSelector.matchLabels['pod-template-hash'] === undefined && o.spec.nodeSelector.matchLabels['kubernetes.io/hostname'] === 'node-1')).toBe(true);
    const audit = objects.find((o) => !JSON.stringify(o).includes('Override'));
    expect(audit.spec.containerSelector).toEqual({ matchExpressions: [{ key: 'name', operator: 'In', values: ['cache'] }] });
    expect(plan.unselectable).toEqual(['dev/bare']);
  });

  it('the CRD validator refuses what Tetragon would refuse, and accepts the upstream examples', () => {
    const bad = compileTracingPolicy(profile('block-tools'), 'enforce', target)!.object as any;
    bad.spec.lsmhooks[0].selectors[0].matchArgs[0].operator = 'Matches';
    expect(validateNamespaced(bad).join()).toContain('must be equal to one of the allowed values');
    for (const file of yamlFiles(resolve(SHARED_FIXTURES, 'tetragon/policies'))) {
      const doc = parse(readFileSync(file, 'utf8'));
      expect((doc.kind === 'TracingPolicy' ? validateCluster : validateNamespaced)(doc), file).toEqual([]);
    }
  });

  it('takes a literal prefix from anchored regexes only', () => {
    expect(regexLiteralPrefix('^/usr/bin/(a|b)$')).toBe('/usr/bin/');
    expect(regexLiteralPrefix('^/usr/binx?')).toBe('/usr/bin');
    expect(regexLiteralPrefix('^/opt\\/x\\d')).toBe('/opt/x');
    expect(regexLiteralPrefix('^/a|^/b')).toBe('');
    expect(regexLiteralPrefix('/usr/bin')).toBe('');
  });
});
