import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebhookConfig } from '../src/config.ts';
import { startWebhook } from './support/webhook-server.ts';
import { badPod, call, clientIdentity, goodPod, postReview, review } from './support/webhook.ts';

let w: Awaited<ReturnType<typeof startWebhook>>;
beforeAll(async () => (w = await startWebhook({ clientNames: ['kube-apiserver'] })));
afterAll(async () => {
  await w.server.close();
  await rm(w.dir, { recursive: true, force: true });
});

describe('the API server authenticates with a client certificate (mutual TLS)', () => {
  it('refuses a configuration without a client CA unless unauthenticated access is asked for by name', () => {
    const r = WebhookConfig.safeParse({ certFile: 'tls.crt', keyFile: 'tls.key' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ path: ['clientCaFile'] });
    expect(WebhookConfig.parse({ certFile: 'a', keyFile: 'b', clientCaFile: 'ca.crt' })).toMatchObject({ allowUnauthenticated: false, clientNames: [] });
    expect(WebhookConfig.parse({ certFile: 'a', keyFile: 'b', allowUnauthenticated: true }).allowUnauthenticated).toBe(true);
    expect(WebhookConfig.safeParse({ certFile: 'a', keyFile: 'b', allowUnauthenticated: true, clientNames: ['x'] }).success).toBe(false);
  });

  it('a forged AdmissionReview without a client certificate is refused and never becomes an audit event', async () => {
    w.server.audit.take();
    const forged = await postReview(w.url, { ca: w.serverCa }, review(badPod()));
    expect(forged.status).toBe(401);
    expect(forged.headers['content-type']).toBe('application/problem+json');
    expect(forged.json().detail).toMatch(/client certificate/);
    expect(w.server.audit.take()).toEqual([]);
  });

  it('refuses a client certificate from another CA, and one of the right CA with a name not listed', async () => {
    const stranger = await clientIdentity('kube-apiserver');
    expect((await postReview(w.url, { ca: w.serverCa, ...stranger }, review(badPod()))).status).toBe(401);
    const wrongName = await clientIdentity('some-kubelet', w.clientCa);
    const reply = await postReview(w.url, { ca: w.serverCa, ...wrongName }, review(badPod()));
    expect(reply.status).toBe(403);
    expect(reply.json().detail).toMatch(/"some-kubelet" is not one of clientNames/);
    expect(w.server.audit.take()).toEqual([]);
  });

  it('decides for the API server, and keeps probes and metrics reachable without a certificate', async () => {
    const reply = await postReview(w.url, w.ca, review(goodPod()));
    expect(reply.status).toBe(200);
    expect(reply.json().response.allowed).toBe(true);
    expect((await call(`${w.url}/healthz`, { ca: w.serverCa })).status).toBe(200);
    expect((await call(`${w.url}/readyz`, { ca: w.serverCa })).status).toBe(200);
    expect((await call(`${w.url}/metrics`, { ca: w.serverCa })).text).toMatch(/palisade_webhook_requests_total\{path="\/validate",code="401"\} 2/);
  });

  it('without clientCaFile and with allowUnauthenticated, anyone who reaches the port is answered (the documented opt-out)', async () => {
    const open = await startWebhook({ allowUnauthenticated: true, clientCaFile: undefined, clientNames: undefined });
    try {
      expect((await postReview(open.url, { ca: open.serverCa }, review(goodPod()))).status).toBe(200);
    } finally {
      await open.server.close();
      await rm(open.dir, { recursive: true, force: true });
    }
  });
});
