import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { WebhookConfig } from '../agent-sdk/src/config.ts';
import { WebhookServer } from '../agent-sdk/src/webhook/server.ts';
import { BUNDLE_API_VERSION, BundleContentV1 } from '../schema/bundle.ts';
import { bundle, POD } from './engine.bench.ts';
import { fmt, median, report } from './stats.ts';

const RUNS = 3;
const SECONDS = 5;
const CONNECTIONS = 20;

interface Result {
  rps: number;
  p99: number;
}

/** autocannon as a separate process over HTTPS (self-signed: it must not verify), POSTing one AdmissionReview. */
async function autocannon(url: string, body: string): Promise<Result> {
  const args = ['-j', '-c', String(CONNECTIONS), '-d', String(SECONDS), '-m', 'POST', '-H', 'content-type=application/json', '-b', body, url];
  const env = { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' };
  const child = spawn(join(process.cwd(), 'node_modules/.bin/autocannon'), args, { stdio: ['ignore', 'pipe', 'ignore'], env });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const r = JSON.parse(stdout) as { requests: { average: number }; latency: { p99: number }; non2xx: number; errors: number };
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${url}: ${r.non2xx} non-2xx answers, ${r.errors} errors`);
  return { rps: r.requests.average, p99: r.latency.p99 };
}

/** The ceiling: an HTTPS server that reads the body and answers a fixed AdmissionReview. */
function trivialServer(pair: { cert: string; key: string }): Promise<{ url: string; close: () => void }> {
  const answer = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: '705ab4f5-6393-11e8-b7cc-42010a800002', allowed: true } });
  const server = createServer(pair, (req, res) => {
    req.resume().on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) }).end(answer));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/validate`, close: () => server.close() })));
}

const id = (space: number, i: number) => `${space.toString(16).padStart(8, '0')}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

/** A small tenant's bundle that the benchmark pod complies with: restricted, two registries, best practices in Audit. */
function smallBundle(): BundleContentV1 {
  const scopes = [{ id: id(2, 1), name: 'all', global: true, resources: [] }];
  const policies = [
    { name: 'restricted', mode: 'enforce', limitContainerPrivileges: { enabled: true, preset: 'restricted' } },
    { name: 'registries', mode: 'enforce', registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library'] } },
    { name: 'hygiene', mode: 'audit', bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'cpuLimitsSet', 'memoryLimitsSet'] } },
  ].map((p, i) => ({ ...p, id: id(1, i + 1), revision: 1, scopes }));
  return BundleContentV1.parse({ apiVersion: BUNDLE_API_VERSION, tenantId: id(9, 1), cluster: { id: id(8, 1), name: 'prod-eu' }, policies, runtimeProfiles: [], signatureValidators: [], images: [], registries: [], fileThreatProtection: null });
}

/** Webhook requests per second and p99 on loopback, against a trivial HTTPS server as the ceiling; medians of runs. */
export async function benchWebhook(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-bench-webhook-'));
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], { keyType: 'ec', algorithm: 'sha256' });
  const pair = { cert: pems.cert, key: pems.private };
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
  const now = Date.now();
  const served = (content: BundleContentV1) => ({ content, revision: 1, issuedAt: new Date(now), expiresAt: new Date(now + 86_400_000) });
  const [small, big] = [served(smallBundle()), served(bundle())];
  let active = small;
  const config = WebhookConfig.parse({ listen: '127.0.0.1', port: 0, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key') });
  const webhook = await WebhookServer.create(config, { bundle: () => active });
  const { port } = await webhook.listen();
  const trivial = await trivialServer(pair);
  const pod = JSON.parse(POD) as { metadata: { name: string; namespace: string } };
  const body = JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
      name: pod.metadata.name, namespace: pod.metadata.namespace, operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: pod, oldObject: null, dryRun: false, options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });
  try {
    const url = `https://127.0.0.1:${port}/validate`;
    const runs: Record<'trivial' | 'small' | 'big', Result[]> = { trivial: [], small: [], big: [] };
    for (let i = 0; i < RUNS; i++) {
      runs.trivial.push(await autocannon(trivial.url, body));
      active = small;
      runs.small.push(await autocannon(url, body));
      active = big;
      runs.big.push(await autocannon(url, body));
    }
    const rps = (xs: Result[]) => median(xs.map((r) => r.rps));
    const p99 = (xs: Result[]) => median(xs.map((r) => r.p99));
    const queue = webhook.counters();
    const row = (xs: Result[]) => `${fmt(rps(xs), 0)} req/s, p99 ${p99(xs)} ms = ${fmt(rps(xs) / rps(runs.trivial))}x of trivial`;
    report(`Admission webhook over HTTPS on loopback (autocannon, ${CONNECTIONS} connections, ${SECONDS} s, median of ${RUNS}; ${(body.length / 1024).toFixed(1)} KiB AdmissionReview of a 3-container pod)`, [
      ['baseline: trivial HTTPS server, fixed answer', `${fmt(rps(runs.trivial), 0)} req/s, p99 ${p99(runs.trivial)} ms`],
      ['POST /validate, 3 policies, pod complies', row(runs.small)],
      ['POST /validate, 50 policies, 20 findings (denied)', `${row(runs.big)}, ${fmt(queue.auditEvents / queue.admissionDenied, 0)} audit events each`],
      ['decisions allowed / denied; audit events dropped', `${queue.admissionAllowed} / ${queue.admissionDenied}; ${queue.auditDroppedOverflow} (no audit pipeline drains the queue here)`],
    ]);
  } finally {
    trivial.close();
    await webhook.close();
    await rm(dir, { recursive: true, force: true });
  }
}
