import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditEventV1 } from '../../schema/audit-event.ts';
import { startWebhook } from './support/webhook-server.ts';
import { badPod, goodPod, pod, postReview, review } from './support/webhook.ts';

let w: Awaited<ReturnType<typeof startWebhook>>;
beforeAll(async () => (w = await startWebhook()));
afterAll(async () => {
  await w.server.close();
  await rm(w.dir, { recursive: true, force: true });
});

const NOT_ENFORCED = 'Palisade: policy "profiles" enables containerRuntimeProfiles, not enforced by this admission agent';

const decide = async (body: unknown) => {
  const reply = await postReview(w.url, w.ca, body);
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('application/json');
  const json = reply.json();
  expect(json).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  return json.response;
};

describe('POST /validate over HTTPS with AdmissionReview v1', () => {
  it('allows a compliant pod, echoing the uid; Audit-mode findings become warnings', async () => {
    const body = review(pod('web', [{ name: 'app', image: 'ghcr.io/acme/web:latest' }]));
    expect(await decide(body)).toEqual({
      uid: body.request.uid,
      allowed: true,
      warnings: [NOT_ENFORCED, 'Palisade audit: container "app": image "ghcr.io/acme/web:latest" uses the tag latest, which can change under it; use a version tag or a digest [policy "hygiene", check bestPracticeCheck.imageTagNotLatest]'],
    });
    // A section a policy enables but this agent does not enforce never passes silently, even on a clean pod.
    const clean = review(goodPod());
    expect(await decide(clean)).toEqual({ uid: clean.request.uid, allowed: true, warnings: [NOT_ENFORCED] });
  });

  it('denies with 403 and a message listing each violated check per container, in plain words', async () => {
    const body = review(badPod());
    const response = await decide(body);
    expect(response).toMatchObject({ uid: body.request.uid, allowed: false, status: { code: 403, reason: 'Forbidden' } });
    expect(response.status.message).toBe(
      [
        'Palisade denied Pod "web" in namespace "shop" (bundle revision 7):',
        '- container "app": image "quay.io/evil/miner:latest" is from registry quay.io, which is not in the allowed registries (ghcr.io/acme, docker.io/library) [policy "baseline", check registriesAllowed]',
        '- container "app" sets privileged=true [policy "baseline", check limitContainerPrivileges.baseline.privileged]',
        '- pod sets hostNetwork=true [policy "baseline", check limitContainerPrivileges.baseline.hostNamespaces]',
      ].join('\n'),
    );
    expect(response.warnings).toEqual([
      NOT_ENFORCED,
      'Palisade audit: container "app": image "quay.io/evil/miner:latest" uses the tag latest, which can change under it; use a version tag or a digest [policy "hygiene", check bestPracticeCheck.imageTagNotLatest]',
      'Palisade audit: container "sidecar": image "docker.io/library/envoy" has no tag, so it runs whatever latest is; use a version tag or a digest [policy "hygiene", check bestPracticeCheck.imageTagNotLatest]',
      'Palisade audit: container "sidecar" sets no memory limit [policy "hygiene", check bestPracticeCheck.memoryLimitsSet]',
    ]);
  });

  it('evaluates UPDATE and dry runs; queues audit events of real requests only', async () => {
    w.server.audit.take();
    const updated = await decide(review(badPod(), { operation: 'UPDATE', oldObject: goodPod() }));
    expect(updated.allowed).toBe(false);
    // An earlier test denied the same pod: this identical denial is counted into the aggregate, not queued now.
    expect(w.server.audit.take()).toEqual([]);
    const fresh = await decide(review(badPod('web-2'), { operation: 'UPDATE', oldObject: goodPod('web-2') }));
    expect(fresh.allowed).toBe(false);
    const events = w.server.audit.take();
    expect(events).toHaveLength(1); // one event per decision
    for (const event of events) expect(AuditEventV1.parse(event)).toEqual(event);
    const summary = events[0]!.checks.map((c) => `${c.mode} ${c.policy!.name} ${c.container ?? 'pod'}`).sort();
    expect(summary).toEqual(['audit hygiene app', 'audit hygiene sidecar', 'audit hygiene sidecar', 'enforce baseline app', 'enforce baseline app', 'enforce baseline pod']);
    expect(events[0]).toMatchObject({ kind: 'admission', verdict: 'blocked', bundleRevision: 7, workload: { namespace: 'shop', kind: 'Pod', name: 'web-2', pod: 'web-2' } });

    const dry = await decide(review(badPod(), { dryRun: true }));
    expect(dry.allowed).toBe(false);
    expect(w.server.audit.size).toBe(0);
  });

  it('evaluates the pod template of workloads and ephemeral containers added by kubectl debug', async () => {
    const template = badPod();
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'api', namespace: 'shop' }, spec: { replicas: 2, selector: {}, template: { metadata: { labels: { app: 'api' } }, spec: template.spec } } };
    const denied = await decide(review(deployment));
    expect(denied.status.message).toMatch(/^Palisade denied Deployment "api" in namespace "shop"/);
    const debug = { ...goodPod(), spec: { ...(goodPod().spec as object), ephemeralContainers: [{ name: 'debugger', image: 'quay.io/x/busybox:1', securityContext: { privileged: true } }] } };
    const ephemeral = await decide(review(debug, { operation: 'UPDATE', subResource: 'ephemeralcontainers', oldObject: goodPod() }));
    expect(ephemeral.allowed).toBe(false);
    expect(ephemeral.status.message).toContain('container "debugger"');
  });

  it('allows other operations, objects that are no workload, and updates of objects being deleted', async () => {
    for (const operation of ['DELETE', 'CONNECT']) expect(await decide(review(badPod(), { operation }))).toEqual({ uid: expect.any(String), allowed: true });
    const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: {} };
    expect((await decide(review(configMap))).allowed).toBe(true);
    const leaving = badPod();
    (leaving.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-01T00:00:00Z';
    expect((await decide(review(leaving, { operation: 'UPDATE', oldObject: badPod() }))).allowed).toBe(true);
  });
});
