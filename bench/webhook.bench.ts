import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import type { AuditEventV1 } from '../schema/audit-event.ts';
import { AgentAudit } from '../agent-sdk/src/audit/agent-audit.ts';
import type { BundleClient } from '../agent-sdk/src/bundle/client.ts';
import { WebhookConfig } from '../agent-sdk/src/config.ts';
import { auditEvents, evaluate } from '../agent-sdk/src/engine/index.ts';
import type { AgentFiles } from '../agent-sdk/src/node/agent-files.ts';
import { uuidv7 } from '../agent-sdk/src/webhook/uuid.ts';
import { WebhookServer } from '../agent-sdk/src/webhook/server.ts';
import { BUNDLE_API_VERSION, BundleContentV1 } from '../schema/bundle.ts';
import { bundle, POD } from './engine.bench.ts';
import { fmt, median, report } from './stats.ts';
import { decidingServer, trivialServer } from './webhook-ceilings.ts';

const RUNS = Number(process.env.BENCH_WEBHOOK_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_WEBHOOK_SECONDS ?? 5);
// BENCH_WEBHOOK_PHASES=empty,full (a comma-separated subset of compliant, empty, half, full, draining) for a quick look.
const CONNECTIONS = 20;

interface Result {
  rps: number;
  /** CPU time of this process (the server under test, with its audit pipeline) per request served. */
  cpuUs: number;
  p99: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

/**
 * autocannon as a separate process over HTTPS (self-signed: it must not verify), POSTing an AdmissionReview in which
 * `[<id>]` becomes a fresh id per request (bench/load-generator.mjs), so every decision is about a different
 * workload and the agent's aggregation of identical denials cannot hide the cost of the audit pipeline.
 */
async function autocannon(url: string, bodyFile: string, seconds = SECONDS): Promise<Result> {
  const env = { ...process.env, NODE_TLS_REJECT_UNAUTHORIZED: '0', NODE_NO_WARNINGS: '1' };
  const cpu = process.cpuUsage();
  const child = spawn(process.execPath, [join(process.cwd(), 'bench/load-generator.mjs'), url, String(CONNECTIONS), String(seconds), bodyFile], { stdio: ['ignore', 'pipe', 'inherit'], env });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise((resolve) => child.on('close', resolve));
  const used = process.cpuUsage(cpu);
  const r = JSON.parse(stdout) as { requests: { average: number; total: number }; latency: { p99: number }; non2xx: number; errors: number; timeouts: number };
  return { cpuUs: (used.user + used.system) / Math.max(1, r.requests.total), rps: r.requests.average, p99: r.latency.p99, errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx };
}

/**
 * Stands in for `POST /v1/agent/events` (bench/event-sink.mjs, in its own process: the control plane's work is not the
 * agent's): acknowledges every event, or answers 503 while down (the control plane unreachable: the spool fills).
 */
async function eventSink(): Promise<{ url: string; setDown: (down: boolean) => Promise<void>; events: () => Promise<number>; close: () => void }> {
  const child = spawn(process.execPath, [join(process.cwd(), 'bench/event-sink.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve) => child.stdout.once('data', (c: Buffer) => resolve(c.toString().trim())));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    setDown: async (down) => void (await fetch(`${url}/${down ? 'down' : 'up'}`, { method: 'PUT' })),
    events: async () => ((await (await fetch(`${url}/count`)).json()) as { events: number }).events,
    close: () => child.kill('SIGTERM'),
  };
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

const review = (pod: unknown, name: string, namespace: string) =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' },
      name, namespace, operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] },
      object: pod, oldObject: null, dryRun: false, options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The admission webhook on loopback with the real audit pipeline behind it (the agent's in-memory queue pumped into
 * the durable spool, the shipper sending to a local sink in its own process), against a trivial HTTPS server measured alternately in
 * the same run. The denied pod is measured with the spool empty (sink acknowledging), half full and full (sink
 * down: the control plane unreachable, so the spool keeps what it has), and draining from full (sink back). The
 * spool is brought to each level with copies of the benchmark pod's own audit events, then the load runs for
 * `SECONDS` with the spool free to fill further. Ratios are per alternated pair, then the median. Beside throughput,
 * each row gives this process's CPU time per request served (server, audit pipeline and the stand-in sink): on a
 * machine shared with other work, throughput swings with what the load generator gets, CPU per request much less.
 * Its ratio is the trivial server's CPU per request over the row's: the share of trivial's rate one core would serve.
 */
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
  const config = WebhookConfig.parse({ listen: '127.0.0.1', port: 0, certFile: join(dir, 'tls.crt'), keyFile: join(dir, 'tls.key'), allowUnauthenticated: true }); // like the trivial baseline: TLS without client certificates
  const webhook = await WebhookServer.create(config, { bundle: () => active });
  const { port } = await webhook.listen();
  const trivial = await trivialServer(pair);
  const parsing = await trivialServer(pair, true);
  const deciding = await decidingServer(pair, big);
  const sink = await eventSink();
  // The agent's own audit path, with its default spool bounds (100 000 events, 64 MiB).
  const files = { config: { url: sink.url, audit: { batchMaxWaitMs: 200 } }, credential: 'bench', stateDir: dir } as unknown as AgentFiles;
  const audit = await AgentAudit.start(join(dir, 'config.json'), files, { active: null } as unknown as BundleClient, () => undefined);
  audit.attach(webhook.audit);
  const spool = audit.pipeline.spool;

  const pod = JSON.parse(POD) as { metadata: { name: string; namespace: string; ownerReferences: Array<{ name: string }> } };
  const { namespace } = pod.metadata;
  const fixed = review(pod, pod.metadata.name, namespace);
  // Every request a different ReplicaSet and pod (autocannon fills in `[<id>]`).
  const distinct = join(dir, 'distinct.json');
  const fixedFile = join(dir, 'fixed.json');
  await writeFile(fixedFile, fixed);
  await writeFile(distinct, review({ ...pod, metadata: { ...pod.metadata, name: 'shop-[<id>]-x', ownerReferences: [{ ...pod.metadata.ownerReferences[0], name: 'shop-[<id>]' }] } }, 'shop-[<id>]-x', namespace));
  // Filler: the audit events the agent itself makes for this pod under the big bundle, with fresh ids, all of them
  // blocked (kept, never evicted): the state that made every append rescan the spool (issue 12).
  const decision = evaluate(big.content, { object: pod, namespace }, { now: new Date(), bundleRevision: 1 });
  const sample = auditEvents(decision, { object: pod, namespace }, { newId: () => uuidv7(), now: new Date() }).map((e): AuditEventV1 => ({ ...e, verdict: 'blocked', mode: 'enforce' }));
  const bounds = { events: 100_000, bytes: 64 << 20 };
  const level = () => Math.max(spool.pending().events / bounds.events, spool.pending().bytes / bounds.bytes);
  async function fillTo(fraction: number): Promise<void> {
    for (let guard = 0; level() < fraction && guard < 100_000; guard++) {
      const events: AuditEventV1[] = [];
      for (let i = 0; i < Math.max(1, Math.floor(1000 / sample.length)); i++) for (const e of sample) events.push({ ...e, id: uuidv7() });
      const result = await audit.record(events);
      if (result.taken === 0) break; // full
    }
  }
  async function sinkUp(): Promise<void> {
    await sink.setDown(false);
    await audit.pipeline.shipper.stop(); // restarted so that the backoff of the down phase does not stretch the bench
    audit.pipeline.shipper.start();
  }
  async function drain(): Promise<void> {
    await sinkUp();
    for (let i = 0; i < 600 && (spool.pending().events > 0 || webhook.audit.size > 0); i++) await sleep(100);
  }

  type Phase = 'parseOnly' | 'compliant' | 'decideOnly' | 'empty' | 'half' | 'full' | 'draining';
  const phases = (process.env.BENCH_WEBHOOK_PHASES?.split(',') ?? ['parseOnly', 'compliant', 'decideOnly', 'empty', 'half', 'full', 'draining']) as Phase[];
  const runs = { trivial: [] as Result[], ...Object.fromEntries(phases.map((p) => [p, [] as Result[]])) } as Record<Phase | 'trivial', Result[]>;
  const ratios = Object.fromEntries(phases.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  const cpuRatios = Object.fromEntries(phases.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  const levels = Object.fromEntries(phases.map((p) => [p, [] as number[]])) as Record<Phase, number[]>;
  // What the audit pipeline did while each row's webhook runs were under load: events the sink acknowledged, and
  // blocked events the spool refused because it was full.
  const shipped = Object.fromEntries(phases.map((p) => [p, 0])) as Record<Phase, number>;
  const droppedEnforce = Object.fromEntries(phases.map((p) => [p, 0])) as Record<Phase, number>;
  try {
    const url = `https://127.0.0.1:${port}/validate`;
    // Untimed warm-up of every server, so that no row's first pair measures a cold JIT.
    for (const target of [trivial.url, parsing.url, deciding.url, url]) await autocannon(target, fixedFile, 1);
    for (let i = 0; i < RUNS; i++) {
      for (const phase of phases) {
        // From empty: half is filled from nothing, not from what the previous phase left.
        if (phase === 'compliant' || phase === 'empty' || phase === 'half') await drain();
        if (phase === 'half' || phase === 'full') {
          await sink.setDown(true);
          await fillTo(phase === 'half' ? 0.5 : 1);
        }
        if (phase === 'draining') await sinkUp();
        active = phase === 'compliant' ? small : big;
        levels[phase].push(level());
        const t = await autocannon(trivial.url, distinct);
        const before = { shipped: await sink.events(), dropped: (audit.pipeline.counters().auditSpoolDroppedSpoolFullEnforce ?? 0) };
        const w =
          phase === 'parseOnly' ? await autocannon(parsing.url, fixedFile) : phase === 'decideOnly' ? await autocannon(deciding.url, distinct) : await autocannon(url, phase === 'compliant' ? fixedFile : distinct);
        shipped[phase] += (await sink.events()) - before.shipped;
        droppedEnforce[phase] += (audit.pipeline.counters().auditSpoolDroppedSpoolFullEnforce ?? 0) - before.dropped;
        runs.trivial.push(t);
        runs[phase].push(w);
        ratios[phase].push(w.rps / t.rps);
        cpuRatios[phase].push(t.cpuUs / w.cpuUs);
      }
    }
    const counters = webhook.counters();
    const audited = audit.pipeline.counters();
    const rps = (xs: Result[]) => median(xs.map((r) => r.rps));
    const p99 = (xs: Result[]) => median(xs.map((r) => r.p99));
    const failed = (xs: Result[]) => xs.reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0);
    const cpu = (xs: Result[]) => median(xs.map((r) => r.cpuUs));
    const row = (p: Phase) =>
      `${fmt(rps(runs[p]), 0)} req/s, p99 ${p99(runs[p])} ms = ${fmt(median(ratios[p]))}x of trivial (pairs: ${ratios[p].map((r) => fmt(r)).join(', ')}); ` +
      `server CPU ${fmt(cpu(runs[p]), 0)} µs/request = ${fmt(median(cpuRatios[p]))}x trivial's rate per core` +
      `${p === 'compliant' || p === 'parseOnly' || p === 'decideOnly' ? '' : `, spool at ${fmt(median(levels[p]) * 100, 0)}% at start; under load ${shipped[p]} events shipped, ${droppedEnforce[p]} blocked events dropped (spool full)`}${failed(runs[p]) ? `, ${failed(runs[p])} errors/timeouts` : ''}`;
    report(`Admission webhook over HTTPS on loopback, real audit pipeline (autocannon in its own process, ${CONNECTIONS} connections, ${SECONDS} s, ${RUNS} alternated pairs per row; ${(fixed.length / 1024).toFixed(1)} KiB AdmissionReview of a 3-container pod)`, [
      ['baseline: trivial HTTPS server, fixed answer', `${fmt(rps(runs.trivial), 0)} req/s, p99 ${p99(runs.trivial)} ms, server CPU ${fmt(cpu(runs.trivial), 0)} µs/request (median of all pairs)`],
      ...(
        [
          ['parseOnly', 'ceiling of any webhook: the trivial server + JSON.parse of the review'],
          ['compliant', 'POST /validate, 3 policies, pod complies'],
          ['decideOnly', 'ceiling with 50 policies: parse, decide, answer the denial; no audit'],
          ['empty', 'POST /validate, 50 policies, 20 findings (denied), spool empty'],
          ['half', '... spool half full (control plane down)'],
          ['full', '... spool full (control plane down)'],
          ['draining', '... spool draining from full (control plane back)'],
        ] as Array<[Phase, string]>
      )
        .filter(([p]) => (runs[p]?.length ?? 0) > 0)
        .map(([p, label]): [string, string] => [label, row(p)]),
      ['audit events per denied decision', `${fmt(sample.length, 0)} (${fmt(counters.auditEvents / Math.max(1, counters.admissionDenied), 2)} queued on average)`],
      ['decisions allowed / denied; queue drops', `${counters.admissionAllowed} / ${counters.admissionDenied}; ${counters.auditDroppedOverflow} overflow`],
      ['spool drops (full audit / evicted / full enforce); shipped', `${audited.auditSpoolDroppedSpoolFullAudit} / ${audited.auditSpoolDroppedEvictedAudit} / ${audited.auditSpoolDroppedSpoolFullEnforce}; ${await sink.events()} events acknowledged by the sink`],
    ]);
  } finally {
    trivial.close();
    parsing.close();
    deciding.close();
    await webhook.close();
    await audit.stop();
    sink.close();
    await rm(dir, { recursive: true, force: true });
  }
}
