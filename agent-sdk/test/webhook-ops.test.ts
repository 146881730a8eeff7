import { rm, writeFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startWebhook } from './support/webhook-server.ts';
import { badPod, call, goodPod, postReview, review, selfSigned } from './support/webhook.ts';

const started: Array<Awaited<ReturnType<typeof startWebhook>>> = [];
afterEach(async () => {
  for (const w of started.splice(0)) {
    await w.server.close();
    await rm(w.dir, { recursive: true, force: true });
  }
});

/** Samples of a Prometheus text exposition, by `name{labels}`; every line must be a comment or a sample. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-z_]+(?:\{[a-z_]+="[^"]*"(?:,[a-z_]+="[^"]*")*\})?) (-?[0-9.e+-]+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample: ${line}`);
    out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('webhook operations', () => {
  it('/metrics: requests, decisions by verdict, latency histogram, bundle revision and age, audit drops', async () => {
    const w = await startWebhook({ auditQueueCapacity: 2 });
    started.push(w);
    await postReview(w.url, w.ca, review(badPod('a'))); // one event per decision, into a queue of 2
    await postReview(w.url, w.ca, review(badPod('b')));
    await postReview(w.url, w.ca, review(badPod('c'))); // the oldest goes
    await postReview(w.url, w.ca, review(goodPod()));
    await postReview(w.url, w.ca, review(badPod(), { dryRun: true }));
    await postReview(w.url, w.ca, '{');
    await call(`${w.url}/healthz`, w.ca);
    const reply = await call(`${w.url}/metrics`, w.ca);
    expect(reply.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const m = samples(reply.text);
    expect(m.get('palisade_webhook_requests_total{path="/validate",code="200"}')).toBe(5);
    expect(m.get('palisade_webhook_requests_total{path="/validate",code="400"}')).toBe(1);
    expect(m.get('palisade_webhook_requests_total{path="/healthz",code="200"}')).toBe(1);
    expect(m.get('palisade_admission_decisions_total{verdict="denied",reason="policy",dry_run="false"}')).toBe(3);
    expect(m.get('palisade_admission_decisions_total{verdict="denied",reason="policy",dry_run="true"}')).toBe(1);
    expect(m.get('palisade_admission_decisions_total{verdict="allowed",reason="policy",dry_run="false"}')).toBe(1);
    expect(m.get('palisade_admission_duration_seconds_count')).toBe(6);
    expect(m.get('palisade_admission_duration_seconds_bucket{le="+Inf"}')).toBe(6);
    const buckets = [...m].filter(([k]) => k.startsWith('palisade_admission_duration_seconds_bucket')).map(([, v]) => v);
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    expect(m.get('palisade_admission_duration_seconds_sum')).toBeGreaterThan(0);
    expect(m.get('palisade_bundle_revision')).toBe(7);
    expect(m.get('palisade_bundle_age_seconds')).toBeGreaterThanOrEqual(60);
    expect(m.get('palisade_bundle_age_seconds')).toBeLessThan(120);
    expect(m.get('palisade_bundle_valid')).toBe(1);
    expect(m.get('palisade_audit_events_total')).toBe(3);
    expect(m.get('palisade_audit_queue_size')).toBe(2);
    expect(m.get('palisade_audit_events_dropped_total{reason="overflow"}')).toBe(0);
    expect(m.get('palisade_audit_events_dropped_total{reason="overflowEnforce"}')).toBe(1); // a queue full of blocked events
    expect(w.server.counters()).toEqual({ admissionAllowed: 1, admissionDenied: 4, auditEvents: 3, auditQueued: 2, auditDroppedOverflow: 0, auditDroppedOverflowEnforce: 1, auditDroppedClosed: 0, auditDroppedTooLarge: 0 });
  });

  it('reports repeated identical denials once, then as one event with their count when the window ends (and at close)', async () => {
    const w = await startWebhook({ auditAggregateSeconds: 3 }); // long enough for three requests on a loaded machine
    started.push(w);
    for (let i = 0; i < 3; i++) await postReview(w.url, w.ca, review(badPod('loop')));
    const [first, ...none] = w.server.audit.take();
    expect(none).toEqual([]);
    expect(first).toMatchObject({ verdict: 'blocked', workload: { name: 'loop' } });
    expect(first).not.toHaveProperty('count');
    await expect.poll(() => w.server.audit.size, { timeout: 15_000 }).toBe(1);
    const [aggregate] = w.server.audit.take();
    expect(aggregate).toMatchObject({ verdict: 'blocked', count: 2, checks: first!.checks, workload: { name: 'loop' } });
    expect(Date.parse(aggregate!.firstSeen!)).toBeLessThanOrEqual(Date.parse(aggregate!.lastSeen!));

    await postReview(w.url, w.ca, review(badPod('other')));
    await postReview(w.url, w.ca, review(badPod('other')));
    await w.server.close(); // the open window's count is handed over, not lost
    expect(w.server.audit.take().map((e) => [e.workload?.name, e.count])).toEqual([['other', undefined], ['other', 1]]);
  });

  it('reloads the certificate when its files change, and keeps the old one while the new pair is unusable', async () => {
    const w = await startWebhook({ certReloadSeconds: 0.1 });
    started.push(w);
    expect((await call(`${w.url}/healthz`, w.ca)).fingerprint).toBe(w.pair.fingerprint);

    const next = await selfSigned('renewed');
    await writeFile(w.keyFile, next.key);
    await writeFile(w.certFile, next.cert);
    await expect.poll(() => call(`${w.url}/healthz`, next.cert).then((r) => r.fingerprint, () => 'old'), { timeout: 5_000 }).toBe(next.fingerprint);
    expect(w.logs.some((e) => e.event === 'certificate_reloaded')).toBe(true);
    await expect(call(`${w.url}/healthz`, w.ca)).rejects.toThrow(/self-signed|certificate/i);

    const other = await selfSigned('mismatched');
    await writeFile(w.certFile, other.cert); // its key never arrives
    await expect.poll(() => w.logs.some((e) => e.event === 'certificate_reload_failed' && String(e.message).includes('does not match the key')), { timeout: 5_000 }).toBe(true);
    expect((await call(`${w.url}/healthz`, next.cert)).fingerprint).toBe(next.fingerprint);
  });
});
