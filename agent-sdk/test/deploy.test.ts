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
    const kinds = ['namespace.yaml', 'serviceaccount.yaml', 'credential-secret.yaml', 'deployment.yaml', 'service.yaml', 'pdb.yaml', 'networkpolicy.yaml', 'validating-webhook.yaml'].map((f) => load(f)[0].kind);
    expect(kinds).toEqual(['Namespace', 'ServiceAccount', 'Secret', 'Deployment', 'Service', 'PodDisruptionBudget', 'NetworkPolicy', 'ValidatingWebhookConfiguration']);
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

  it('admits only the API server on the webhook port (NetworkPolicy), and mounts the client CA the agent requires', () => {
    const [policy] = load('networkpolicy.yaml');
    expect(policy).toMatchObject({ kind: 'NetworkPolicy', metadata: { namespace: NS }, spec: { podSelector: { matchLabels: deployment.spec.selector.matchLabels }, policyTypes: ['Ingress'] } });
    expect(policy.spec.ingress).toEqual([{ from: [{ ipBlock: { cidr: '${API_SERVER_CIDR}' } }], ports: [{ port: 8443, protocol: 'TCP' }] }]);
    const agent = deployment.spec.template.spec.containers[0];
    expect(agent.ports).toContainEqual({ name: 'https', containerPort: 8443, protocol: 'TCP' });
    const mount = agent.volumeMounts.find((m: any) => m.name === 'client-ca');
    expect(mount).toEqual({ name: 'client-ca', mountPath: '/etc/palisade/client-ca', readOnly: true });
    expect(deployment.spec.template.spec.volumes).toContainEqual({ name: 'client-ca', configMap: { name: 'palisade-agent-client-ca' } });
  });

  it('gives the API server a client certificate for this webhook, and the README configures the agent to require it', () => {
    const [admission] = load('apiserver/admission-configuration.yaml');
    const [kubeconfig] = load('apiserver/webhook-kubeconfig.yaml');
    const plugin = admission.plugins.find((p: any) => p.name === 'ValidatingAdmissionWebhook');
    expect(plugin.configuration).toMatchObject({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'WebhookAdmission' });
    expect(plugin.configuration.kubeConfigFile).toMatch(/webhook-kubeconfig\.yaml$/);
    // The API server picks the user whose name is the Service's DNS name (port 443 adds no suffix).
    expect(service.spec.ports[0].port).toBe(443);
    expect(kubeconfig.users.map((u: any) => u.name)).toEqual([`${service.metadata.name}.${NS}.svc`]);
    expect(kubeconfig.users[0].user).toMatchObject({ 'client-certificate': expect.any(String), 'client-key': expect.any(String) });
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const mount = deployment.spec.template.spec.containers[0].volumeMounts.find((m: any) => m.name === 'client-ca').mountPath;
    expect(readme).toContain(`clientCaFile: "${mount}/ca.crt"`);
    expect(readme).toContain('clientNames: ["kube-apiserver-webhook-client"]');
    expect(readme).toContain('deploy/kubernetes/networkpolicy.yaml');
  });
});
