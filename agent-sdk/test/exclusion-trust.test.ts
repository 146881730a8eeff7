import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BundleContentV1 } from '../../schema/bundle.ts';
import { cliWithStdin } from './support/evaluate.ts';
import { servedBundle, startWebhook } from './support/webhook-server.ts';
import { pod, postReview, review, webhookBundle } from './support/webhook.ts';

/** The webhook test bundle, its enforce policy excluding Deployment `monitoring-agent` in namespace `monitoring`. */
async function excludingContent(): Promise<BundleContentV1> {
  const content = await webhookBundle();
  const [baseline, ...rest] = content.policies;
  const exclusions = { enabled: true, items: [{ kind: 'Deployment' as const, name: 'monitoring-agent', namespace: 'monitoring' }] };
  return BundleContentV1.parse({ ...content, policies: [{ ...baseline!, exclusions }, ...rest] });
}

/** A privileged pod in `namespace` claiming the excluded Deployment's ReplicaSet as owner, sent by `username`. */
function claimingReview(namespace: string, username: string) {
  const object = pod('monitoring-agent-7d4b9c8f5-x2x9q', [{ name: 'app', image: 'ghcr.io/acme/web:1', securityContext: { privileged: true } }]);
  const metadata = object.metadata as Record<string, unknown>;
  Object.assign(metadata, { namespace, labels: { app: 'web', 'pod-template-hash': '7d4b9c8f5' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'monitoring-agent-7d4b9c8f5', uid: 'u', controller: true }] });
  const body = review(object);
  body.request.userInfo = { username, groups: ['system:authenticated'] };
  return body;
}

const CONTROLLER = 'system:serviceaccount:kube-system:replicaset-controller';
let w: Awaited<ReturnType<typeof startWebhook>>;
let dir: string;
beforeAll(async () => {
  const content = await excludingContent();
  w = await startWebhook({}, { bundle: await servedBundle({ content }) });
  dir = await mkdtemp(join(tmpdir(), 'palisade-exclusion-trust-'));
  await writeFile(join(dir, 'content.json'), JSON.stringify(content));
  await writeFile(join(dir, 'forged.json'), JSON.stringify(claimingReview('monitoring', 'alice')));
  await writeFile(join(dir, 'controller.json'), JSON.stringify(claimingReview('monitoring', CONTROLLER)));
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(claimingReview('monitoring', CONTROLLER).request.object));
});
afterAll(async () => {
  await w.server.close();
  await rm(w.dir, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
});

describe('workload exclusions cannot be satisfied by the pod spec alone', () => {
  it('webhook: a user\'s pod claiming an excluded owner is denied; the controller\'s pod of it is excluded, in its namespace only', async () => {
    const decide = async (body: unknown) => (await postReview(w.url, w.ca, body)).json().response;
    const forged = await decide(claimingReview('monitoring', 'alice'));
    expect(forged.allowed).toBe(false);
    expect(forged.status.message).toContain('sets privileged=true');
    expect((await decide(claimingReview('monitoring', CONTROLLER))).allowed).toBe(true);
    expect((await decide(claimingReview('shop', CONTROLLER))).allowed).toBe(false);
  });

  it('evaluate: owners count only in an AdmissionReview sent by a controller, never in a bare manifest', async () => {
    const run = (...inputs: string[]) => cliWithStdin(dir, '', 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', '--output', 'json', ...inputs);
    const out = await run('forged.json', 'controller.json', 'manifest.json');
    expect(out.code).toBe(1);
    const results = JSON.parse(out.stdout).results as Array<{ source: string; allowed: boolean }>;
    expect(results.map((r) => [r.source, r.allowed])).toEqual([
      ['forged.json#0', false],
      ['controller.json#0', true],
      ['manifest.json#0', false],
    ]);
  });
});
