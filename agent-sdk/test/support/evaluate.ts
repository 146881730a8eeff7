import { spawn } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { stringify } from 'yaml';
import { fakeId } from '../../../test/engine/support/bundle.ts';
import { REPO, type Run } from './cli.ts';
import { badPod, goodPod, review, webhookBundle } from './webhook.ts';

/** `npx palisade-agent ARGS` with `input` on its standard input, from `cwd` (relative INPUT names stay short). */
export function cliWithStdin(cwd: string, input: string, ...args: string[]): Promise<Run> {
  const bin = join(REPO, 'node_modules/.bin');
  const env = { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH ?? ''}` }; // Node 22 from node_modules, as npx has it
  const child = spawn(join(bin, 'palisade-agent'), args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The webhook test bundle plus a policy that only covers clusters named `staging-*` and admits no registry. */
export async function evaluationContent(tenantId: string, clusterId: string) {
  const content = await webhookBundle();
  const staging = { id: fakeId(2, 50), name: 'staging', global: false, resources: [{ type: 'cluster', cluster: 'staging-*' }] };
  const policy = { ...content.policies[0]!, id: fakeId(1, 50), name: 'staging-lockdown', scopes: [staging], limitContainerPrivileges: { ...content.policies[0]!.limitContainerPrivileges, enabled: false }, registriesAllowed: { enabled: true, registries: [] } };
  return { ...content, tenantId, cluster: { ...content.cluster, id: clusterId }, policies: [...content.policies, policy] };
}

const unnamespaced = (object: Record<string, unknown>) => {
  const { namespace: _, ...metadata } = object.metadata as Record<string, unknown>;
  return { ...object, metadata };
};

/** Input files in every accepted shape, by name. */
export function inputFiles(): Record<string, string> {
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } };
  const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'shop' }, spec: { template: { metadata: { labels: { app: 'web' } }, spec: goodPod().spec } } };
  return {
    'pods.yaml': [stringify(unnamespaced(goodPod('good'))), stringify(unnamespaced(badPod('bad'))), '', stringify(service)].join('---\n'),
    'good.yaml': `# only compliant things\n---\n${stringify(goodPod('good'))}`,
    'list.json': JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [deployment, badPod('listed')] }),
    'review.json': JSON.stringify(review(badPod('reviewed'))),
    'delete.yaml': stringify(review(badPod('leaving'), { operation: 'DELETE' })),
    'broken.yaml': `${stringify(goodPod('first'))}---\nkind: Pod\nmetadata: {name: x\n`,
    'scalar.yaml': 'just words\n',
    'empty.yaml': '# nothing\n',
    'bad-review.json': JSON.stringify({ ...review(goodPod()), apiVersion: 'admission.k8s.io/v1beta1' }),
  };
}
