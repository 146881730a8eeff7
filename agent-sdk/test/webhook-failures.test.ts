import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { servedBundle, startWebhook } from './support/webhook-server.ts';
import { badPod, call, goodPod, postReview, review } from './support/webhook.ts';

const started: Array<Awaited<ReturnType<typeof startWebhook>>> = [];
const webhook = async (...args: Parameters<typeof startWebhook>) => {
  const w = await startWebhook(...args);
  started.push(w);
  return w;
};
afterEach(async () => {
  for (const w of started.splice(0)) {
    await w.server.close();
    await rm(w.dir, { recursive: true, force: true });
  }
});

describe('webhook failure behaviour', () => {
  it('without a bundle, fail-closed denies workloads (503) and is not ready until one arrives', async () => {
    const w = await webhook({}, { bundle: null });
    const body = review(badPod());
    const { response } = (await postReview(w.url, w.ca, body)).json();
    expect(response).toEqual({
      uid: body.request.uid,
      allowed: false,
      status: { code: 503, reason: 'ServiceUnavailable', message: 'Palisade cannot check Pod "web": no policy bundle has been received yet; denied (fail-closed)' },
    });
    expect((await postReview(w.url, w.ca, review(goodPod(), { operation: 'DELETE' }))).json().response.allowed).toBe(true);
    const unready = await call(`${w.url}/readyz`, w.ca);
    expect([unready.status, unready.text]).toEqual([503, 'not ready: no policy bundle has been received yet\n']);
    expect((await call(`${w.url}/healthz`, w.ca)).status).toBe(200);

    w.state.bundle = await servedBundle();
    expect((await call(`${w.url}/readyz`, w.ca)).text).toBe('ready: bundle revision 7\n');
    expect((await postReview(w.url, w.ca, review(goodPod()))).json().response.allowed).toBe(true);
  });

  it('without a bundle, fail-open allows with a warning', async () => {
    const w = await webhook({ failurePolicy: 'open' }, { bundle: null });
    const { response } = (await postReview(w.url, w.ca, review(badPod()))).json();
    expect(response).toEqual({
      uid: expect.any(String),
      allowed: true,
      warnings: ['Palisade cannot check Pod "web": no policy bundle has been received yet; admitted without policy checks (fail-open)'],
    });
  });

  it('enforces an expired bundle during the grace period, then applies the failure policy', async () => {
    let now = Date.now();
    const expiresAt = new Date(now - 30_000);
    const w = await webhook({ expiryGraceSeconds: 60 }, { bundle: await servedBundle({ expiresAt }), now: () => now });
    const within = (await postReview(w.url, w.ca, review(badPod()))).json().response;
    expect(within.status.code).toBe(403);
    expect((await call(`${w.url}/readyz`, w.ca)).status).toBe(200);

    now += 31_000;
    const past = (await postReview(w.url, w.ca, review(goodPod()))).json().response;
    expect(past).toMatchObject({ allowed: false, status: { code: 503 } });
    expect(past.status.message).toBe(`Palisade cannot check Pod "web": the policy bundle (revision 7) expired at ${expiresAt.toISOString()}, past the grace period; denied (fail-closed)`);
    expect((await call(`${w.url}/readyz`, w.ca)).status).toBe(503);
  });

  it('answers malformed requests with 400 and a message', async () => {
    const w = await webhook();
    const v1beta1 = { ...review(goodPod()), apiVersion: 'admission.k8s.io/v1beta1' };
    const noUid = review(goodPod()) as { request: Record<string, unknown> };
    delete noUid.request.uid;
    const noObject = review(goodPod()) as { request: Record<string, unknown> };
    noObject.request.object = null;
    const cases: Array<[unknown, string]> = [
      ['{"apiVersion": "admission.k8s.io/v1", ', 'the body is not JSON: '],
      [[review(goodPod())], 'not an AdmissionReview admission.k8s.io/v1 request: the body is not a JSON object'],
      [{ ...v1beta1 }, 'not an AdmissionReview admission.k8s.io/v1 request: apiVersion is "admission.k8s.io/v1beta1", expected "admission.k8s.io/v1"'],
      [{ ...review(goodPod()), kind: 'Pod' }, 'kind is "Pod", expected "AdmissionReview"'],
      [noUid, 'request.uid is missing'],
      [noObject, 'request.object is missing for CREATE'],
      [{ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }, 'request is missing'],
    ];
    for (const [body, message] of cases) {
      const reply = await postReview(w.url, w.ca, body);
      expect(reply.status, message).toBe(400);
      expect(reply.headers['content-type']).toBe('application/problem+json');
      expect(reply.json()).toMatchObject({ status: 400, title: 'Bad Request' });
      expect(reply.json().detail).toContain(message);
    }
  });

  it('refuses oversized bodies (413), other media types (415), methods (405) and paths (404)', async () => {
    const w = await webhook({ maxRequestBytes: 4096 });
    const big = JSON.stringify(review(goodPod('x'.repeat(5000))));
    const declared = await postReview(w.url, w.ca, big);
    expect([declared.status, declared.json().detail]).toEqual([413, `the body is ${Buffer.byteLength(big)} bytes; the limit is 4096`]);
    const chunked = await postReview(w.url, w.ca, big, { 'transfer-encoding': 'chunked' });
    expect([chunked.status, chunked.json().detail]).toEqual([413, 'the body is larger than the limit of 4096 bytes']);

    const text = await postReview(w.url, w.ca, JSON.stringify(review(goodPod())), { 'content-type': 'text/plain' });
    expect([text.status, text.json().detail]).toEqual([415, 'Content-Type is "text/plain"; send application/json']);
    const utf8 = await postReview(w.url, w.ca, JSON.stringify(review(goodPod())), { 'content-type': 'application/json; charset=utf-8' });
    expect(utf8.status).toBe(200);

    const get = await call(`${w.url}/validate`, w.ca);
    expect([get.status, get.headers.allow]).toEqual([405, 'POST']);
    expect((await call(`${w.url}/mutate`, w.ca, { method: 'POST' })).status).toBe(404);
  });

  it('gives up on a body that does not arrive within the deadline (408)', async () => {
    const w = await webhook({ requestDeadlineMs: 300 });
    const started = performance.now();
    const reply = await call(`${w.url}/validate`, w.ca, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': '1000' }, slowBody: '{"apiVersion":' });
    expect([reply.status, reply.json().detail]).toEqual([408, 'the request body did not arrive within the deadline']);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
