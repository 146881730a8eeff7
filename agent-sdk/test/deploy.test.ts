import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { BundleContentV1 } from '../../schema/bundle.ts';
import { fakeId } from '../../test/engine/support/bundle.ts';
import { evaluate } from '../src/engine/index.ts';
import { REPO } from './support/cli.ts';

const DIR = join(REPO, 'deploy/kubernetes');
const load = (file: string): any[] => parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((d) => d.toJS());
const [webhookConfig] = load('validating-webhook.yaml');
const [deployment] = load('deployment.yaml');
const [service] = load('service.yaml');
const NS = load('namespace.yaml')[0].metadata.name;

describe('deploy/kubernetes', () => {
  it('has every object the install needs, in the agent namespace', () => {
    const kinds = ['namespace.yaml', 'serviceaccount.yaml', 'credential-secret.yaml', 'deployment.yaml', 'service.yaml', 'pdb.yaml', 'validating-webhook.yaml'].map((f) => load(f)[0].kind);
    expect(kinds).toEqual(['Namespace', 'ServiceAccount', 'Secret', 'Deployment', 'Service', 'PodDisruptionBudget', 'ValidatingWebhookConfiguration']);
    expect(deployment.spec.replicas).toBe(2);
    expect(load('pdb.yaml')[0].spec).toMatchObject({ minAvailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } });
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  it('configures the webhook to fail closed, fast, without side effects, and without locking out kube-system or itself', () => {
    const [hook, ...others] = webhookConfig.webhooks;
    expect(others).toEqual([]);
    expect(hook).toMatchObject({ failurePolicy: 'Fail', sideEffects: 'None', admissionReviewVersions: ['v1'], clientConfig: { service: { namespace: NS, name: service.metadata.name, path: '/validate', port: 443 } } });
    expect(hook.timeoutSeconds).toBeLessThanOrEqual(5);
    expect(hook.namespaceSelector.matchExpressions).toContainEqual({ key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: expect.arrayContaining(['kube-system', NS]) });
    const resources = hook.rules.flatMap((r: any) => r.resources);
    expect(resources).toEqual(expect.arrayContaining(['pods', 'pods/ephemeralcontainers', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'replicationcontrollers', 'jobs', 'cronjobs']));
    for (const rule of hook.rules) expect(rule.operations).toEqual(['CREATE', 'UPDATE']);
  });

  it('runs the agent as a Pod Security "restricted" workload (checked with the agent\'s own engine)', () => {
    const bundle = BundleContentV1.parse({
      apiVersion: 'palisade.dev/bundle/v1', tenantId: fakeId(9, 1), cluster: { id: fakeId(8, 1), name: 'c' },
      policies: [{ id: fakeId(1, 1), name: 'restricted', revision: 1, mode: 'enforce', scopes: [{ id: fakeId(2, 1), name: 's', global: true, resources: [] }], limitContainerPrivileges: { enabled: true, preset: 'restricted' } }],
      runtimeProfiles: [], signatureValidators: [], images: [], registries: [], fileThreatProtection: null,
    });
    const decision = evaluate(bundle, { object: deployment }, { now: new Date(), bundleRevision: 1 });
    expect(decision.findings).toEqual([]);
    expect(decision.workload).toMatchObject({ kind: 'Deployment', namespace: NS });
    const agent = deployment.spec.template.spec.containers[0];
    expect(agent.readinessProbe.httpGet).toMatchObject({ path: '/readyz', scheme: 'HTTPS' });
    expect(agent.livenessProbe.httpGet).toMatchObject({ path: '/healthz', scheme: 'HTTPS' });
  });
});
