import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { WebhookConfig } from '../agent-sdk/src/config.ts';
import { evaluate, signatureNeeds } from '../agent-sdk/src/engine/index.ts';
import { OciClient } from '../agent-sdk/src/oci/client.ts';
import { signatureStage } from '../agent-sdk/src/signatures/stage.ts';
import { SignatureVerifier } from '../agent-sdk/src/signatures/verifier.ts';
import { WebhookServer } from '../agent-sdk/src/webhook/server.ts';
import { hasRegistry, Pusher, pushImage, signLegacy, startRegistry } from '../agent-sdk/test/support/oci-registry.ts';
import { podWith, signatureBundle } from '../agent-sdk/test/support/signature-bundle.ts';
import { fmt, median, percentile, report } from './stats.ts';

const IMAGES = 40;
const RUNS = 5;

async function autocannon(url: string, body: string): Promise<number> {
  const args = ['-j', '-c', '20', '-d', '5', '-m', 'POST', '-H', 'content-type=application/json', '-b', body, url];
  const child = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'], env: { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' } });
  let stdout = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  await new Promise((r) => child.on('close', r));
  const r = JSON.parse(stdout) as { requests: { average: number }; non2xx: number; errors: number };
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${r.non2xx} non-2xx, ${r.errors} errors`);
  return r.requests.average;
}

/**
 * Image signatures: cold verification of one signed image on a local docker-registry (fresh cache each time) beside
 * one manifest GET on the same registry; a cached decision; webhook throughput with signature rules on cached
 * images against the same requests with the rules switched off.
 */
export async function benchSignatures(): Promise<void> {
  if (!hasRegistry()) {
    console.log('  skipped: docker-registry is not installed (.ci/run installs it)');
    return;
  }
  const reg = await startRegistry();
  const dir = await mkdtemp(join(tmpdir(), 'palisade-bench-sig-'));
  try {
    const push = new Pusher(reg.host);
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const images: string[] = [];
    for (let i = 0; i < IMAGES; i++) {
      const digest = await pushImage(push, 'bench/app', `v${i}`, `bench-${i}`);
      await signLegacy(push, 'bench/app', digest, key.privateKey);
      images.push(`${reg.host}/bench/app:v${i}`);
    }
    const publicKey = key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const withRules = await signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'release' }], validators: { release: { verification: { method: 'publicKey', publicKey } } } });
    const validator = withRules.signatureValidators[0]!;
    const client = new OciClient({ plainHttp: [reg.host] });

    // Cold: a new verifier (empty cache) per image: tag resolution, .sig manifest, payload blob, referrers probe, verify.
    const cold: number[] = [];
    const oneGet: number[] = [];
    for (const image of images) {
      const v = new SignatureVerifier({ client: new OciClient({ plainHttp: [reg.host] }) });
      const t0 = performance.now();
      const fact = await v.fact(image, validator);
      cold.push(performance.now() - t0);
      if (fact.status !== 'verified') throw new Error(`${image}: ${JSON.stringify(fact)}`);
      const t1 = performance.now();
      await client.manifest(reg.host, 'bench/app', image.split(':').pop()!, AbortSignal.timeout(5000));
      oneGet.push(performance.now() - t1);
    }

    // Cached: every image verified once, then answered from the cache.
    const warm = new SignatureVerifier({ client });
    for (const image of images) await warm.fact(image, validator);
    const N = 200_000;
    let t = performance.now();
    for (let i = 0; i < N; i++) warm.cached(images[i % IMAGES]!, validator);
    const cachedUs = ((performance.now() - t) * 1000) / N;
    const input = { object: podWith(images[0]!, images[1]!, images[2]!) };
    const M = 50_000;
    t = performance.now();
    for (let i = 0; i < M; i++) await warm.facts(signatureNeeds(withRules, input), 1000);
    const stageUs = ((performance.now() - t) * 1000) / M;

    // In process, interleaved batches: stage + evaluate with the rules vs evaluate of the same pod without them.
    const options = { now: new Date(), bundleRevision: 1 };
    const plain = structuredClone(withRules);
    plain.policies[0]!.imageContentProtection.enabled = false;
    const batch = async (withSig: boolean) => {
      const t0 = performance.now();
      for (let i = 0; i < 2000; i++) {
        if (withSig) evaluate(withRules, { ...input, signatures: await warm.facts(signatureNeeds(withRules, input), 1000) }, options);
        else evaluate(plain, input, options);
      }
      return (performance.now() - t0) / 2;
    };
    const perOff: number[] = [];
    const perOn: number[] = [];
    for (let i = 0; i < 15; i++) {
      perOff.push(await batch(false));
      perOn.push(await batch(true));
    }

    // Webhook: the same 3-container pod, the same server and stage; the rules on (cached images) or off.
    const withoutRules = structuredClone(withRules);
    withoutRules.policies[0]!.imageContentProtection.enabled = false;
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
    await writeFile(join(dir, 'tls.crt'), pems.cert);
    await writeFile(join(dir, 'tls.key'), pems.private);
    const now = Date.now();
    let active = { content: withRules, revision: 1, issuedAt: new Date(now), expiresAt: new Date(now + 86_400_000) };
    const config = WebhookConfig.parse({ listen: '127.0.0.1', port: 0, allowUnauthenticated: true, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
    const webhook = await WebhookServer.create(config, { bundle: () => active, signatures: signatureStage(warm) });
    const { port } = await webhook.listen();
    const body = JSON.stringify({
      apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview',
      request: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, name: 'p', namespace: 'shop', operation: 'CREATE', userInfo: { username: 'u' }, object: input.object, oldObject: null, dryRun: true },
    });
    const on: number[] = [];
    const off: number[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        active = { ...active, content: withoutRules };
        off.push(await autocannon(`https://127.0.0.1:${port}/validate`, body));
        active = { ...active, content: withRules };
        on.push(await autocannon(`https://127.0.0.1:${port}/validate`, body));
      }
    } finally {
      await webhook.close();
    }
    report(`Image signatures on a local docker-registry (loopback; ${IMAGES} signed images, legacy .sig with an ECDSA P-256 key)`, [
      ['baseline: one manifest GET (same registry)', `p50 ${fmt(median(oneGet))} ms, p95 ${fmt(percentile(oneGet, 95))} ms`],
      ['cold verification of one image by tag (goal p50 <= 50 ms)', `p50 ${fmt(median(cold))} ms, p95 ${fmt(percentile(cold, 95))} ms = ${fmt(median(cold) / median(oneGet), 1)}x one GET`],
      ['cached decision, verifier.cached() (goal <= 10 us)', `${fmt(cachedUs, 2)} us`],
      ['signature stage of a 3-container pod, all cached', `${fmt(stageUs, 2)} us`],
      ['decision in process, rules off (baseline)', `${fmt(median(perOff), 1)} us per request (median of 15 interleaved batches)`],
      ['decision in process, stage + rules on, cached', `${fmt(median(perOn), 1)} us per request = ${fmt(median(perOff) / median(perOn))}x the throughput`],
      ['webhook, same pod, signature rules off (baseline)', `${fmt(median(off), 0)} req/s (median of ${RUNS}, autocannon 20 connections, 5 s)`],
      ['webhook, signature rules on, cached images (goal >= 0.9x)', `${fmt(median(on), 0)} req/s = ${fmt(median(on) / median(off))}x`],
    ]);
  } finally {
    await reg.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
