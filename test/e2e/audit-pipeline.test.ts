import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, killHard, killStarted, start } from '../../agent-sdk/test/support/cli.ts';
import { call, clientCa, clientIdentity, pod, postReview, review, selfSigned } from '../../agent-sdk/test/support/webhook.ts';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { resolveWithNodeDns } from '../../workers/node.ts';
import { startDispatchLoop, type DispatchLoop } from '../../workers/webhooks/dispatch-loop.ts';
import { dispatchDue } from '../../workers/webhooks/dispatcher.ts';
import { harness, OPERATOR_KEY } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

// Issue #5, end to end in one run: runtime policies made through the HTTP API, the signed bundle they compile to,
// the REAL agent process (`palisade-agent run`) deciding AdmissionReviews over HTTPS, its spool and shipper sending
// the audit events to the served control plane, the summary counting them, and the webhook outbox delivering each
// stored event to a local receiver, where `standardwebhooks` verifies the signature. Nothing is faked but the
// kube-apiserver (this test posts its AdmissionReviews) and the clock is the real one throughout.

const database = await testPglite();
let dispatcher: DispatchLoop | undefined;
// As workers/node.ts wires it: the app wakes the dispatcher loop after an ingest wrote deliveries.
const h = harness(database, { config: { webhooks: { allowLoopback: true } }, wakeWebhookDispatcher: () => dispatcher?.wake() });

const DEADLINE_MS = 30_000;
let server: ServerType;
let url = '';
let dir = '';
let receiver: Receiver;

// ---------------------------------------------------------------------------------------------------------------
// A webhook receiver as a tenant would run it: node:http on 127.0.0.1, recording every request, answering 204.

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Receiver {
  base: string;
  received: Received[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    base: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** What a receiver runs on each delivery; throws unless the signature (and timestamp, against the real clock) hold. */
function verify(secret: string, r: Received): { type: string; timestamp: string; data: { clusterId: string; event: AuditEventV1 } } {
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, String(v)]));
  return new Webhook(secret).verify(r.body, headers) as never;
}

// ---------------------------------------------------------------------------------------------------------------
// The tenant admin's API, over HTTP against the served app.

let adminKey = '';
async function api<T = any>(method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
async function created<T = any>(path: string, body: unknown): Promise<T> {
  const res = await api<T>('POST', path, body);
  expect(res.status, `POST ${path}: ${JSON.stringify(res.body)}`).toBe(201);
  return res.body;
}

/** Polls `probe` until `done` holds or the deadline passes; answers the last value (the caller asserts on it). */
async function pollUntil<T>(probe: () => Promise<T>, done: (v: T) => boolean, ms = DEADLINE_MS, everyMs = 150): Promise<T> {
  const end = Date.now() + ms;
  let value = await probe();
  while (!done(value) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, everyMs));
    value = await probe();
  }
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// What each pod breaks, stated by hand from the two policies below; the expected admission answers, audit events,
// summary counts and webhook deliveries are all derived from this table.

type PolicyKey = 'enforce' | 'audit';
interface Finding {
  policy: PolicyKey;
  /** Absent for pod-level findings (hostNetwork). */
  container?: string;
  check: string;
  severity: 'low' | 'medium' | 'high' | 'critical';
}
interface Case {
  name: string;
  object: Record<string, unknown>;
  findings: Finding[];
  dryRun?: boolean;
}

const PRIVILEGED = 'limitContainerPrivileges.privileged';
const HOST_NETWORK = 'limitContainerPrivileges.hostNetwork';
const LATEST = 'bestPracticeCheck.imageTagNotLatest';
const MEMORY = 'bestPracticeCheck.memoryLimitsSet';
const enforce = (check: string, severity: Finding['severity'], container?: string): Finding => ({ policy: 'enforce', check, severity, ...(container ? { container } : {}) });
const audit = (check: string, container: string): Finding => ({ policy: 'audit', check, severity: 'low', container });

const noLimits = { resources: {} };
const CASES: Case[] = [
  // Clean: allowed, no warnings, no event.
  { name: 'clean', object: pod('clean', [{ name: 'app', image: 'ghcr.io/acme/web:1.4.2' }]), findings: [] },
  // Audit findings only: allowed with warnings, one `alerted` event per container.
  { name: 'latest', object: pod('latest', [{ name: 'app', image: 'ghcr.io/acme/web:latest' }]), findings: [audit(LATEST, 'app')] },
  {
    name: 'unbounded',
    object: pod('unbounded', [{ name: 'app', image: 'ghcr.io/acme/web', ...noLimits }, { name: 'sidecar', image: 'ghcr.io/acme/proxy:2.1', ...noLimits }]),
    findings: [audit(LATEST, 'app'), audit(MEMORY, 'app'), audit(MEMORY, 'sidecar')],
  },
  // Enforce violations: denied; one `blocked` event per container (and one for the pod's own findings).
  { name: 'privileged', object: pod('privileged', [{ name: 'app', image: 'ghcr.io/acme/web:1.4.2', securityContext: { privileged: true } }]), findings: [enforce(PRIVILEGED, 'critical', 'app')] },
  {
    name: 'miner',
    object: pod(
      'miner',
      [
        { name: 'app', image: 'quay.io/evil/miner:latest', securityContext: { privileged: true } },
        { name: 'sidecar', image: 'docker.io/library/envoy:1.30', ...noLimits },
      ],
      { hostNetwork: true },
    ),
    findings: [
      enforce('registriesAllowed', 'high', 'app'),
      enforce(PRIVILEGED, 'critical', 'app'),
      enforce('registriesAllowed', 'high', 'sidecar'),
      enforce(HOST_NETWORK, 'high'),
      audit(LATEST, 'app'),
      audit(MEMORY, 'sidecar'),
    ],
  },
  // A dry run is decided like any request but leaves no audit event.
  {
    name: 'dry-run',
    dryRun: true,
    object: pod('dry-run', [{ name: 'app', image: 'quay.io/evil/miner:2', securityContext: { privileged: true } }]),
    findings: [enforce('registriesAllowed', 'high', 'app'), enforce(PRIVILEGED, 'critical', 'app')],
  },
];

const RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;

/**
 * The finding groups a case must produce (what rollups count): one per (policy, container), its checks, verdict and
 * highest severity. The case's one audit event carries them all.
 */
function expectedGroups(c: Case): Array<{ pod: string; policy: PolicyKey; container: string | null; verdict: string; checks: string[]; severity: string }> {
  if (c.dryRun) return [];
  const groups = new Map<string, Finding[]>();
  for (const f of c.findings) groups.set(`${f.policy}/${f.container ?? ''}`, [...(groups.get(`${f.policy}/${f.container ?? ''}`) ?? []), f]);
  return [...groups.values()].map((fs) => ({
    pod: c.name,
    policy: fs[0]!.policy,
    container: fs[0]!.container ?? null,
    verdict: fs[0]!.policy === 'enforce' ? 'blocked' : 'alerted',
    checks: fs.map((f) => f.check).sort(),
    severity: fs.reduce((m, f) => (RANK[f.severity] > RANK[m.severity] ? f : m)).severity,
  }));
}
const EXPECTED = CASES.flatMap(expectedGroups);
/** The audit events: one per real decision with findings (each pod here is a different workload: nothing aggregates). */
const EXPECTED_EVENTS = CASES.filter((c) => !c.dryRun && c.findings.length > 0).map((c) => ({ pod: c.name, verdict: c.findings.some((f) => f.policy === 'enforce') ? 'blocked' : 'alerted' }));
const sortKey = (e: { pod: string; policy: string; container: string | null }) => `${e.pod}/${e.policy}/${e.container ?? ''}`;
const bySortKey = <T extends { pod: string; policy: string; container: string | null }>(list: T[]) => [...list].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
const count = <T>(list: T[], key: (x: T) => string) => list.reduce<Record<string, number>>((acc, x) => ((acc[key(x)] = (acc[key(x)] ?? 0) + 1), acc), {});

// ---------------------------------------------------------------------------------------------------------------

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'palisade-e2e-'));
  server = serve({ hostname: '127.0.0.1', port: 0, fetch: h.app.fetch });
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver = await startReceiver();
  // The dispatcher exactly as the Node entry runs it: a background loop of `dispatchDue` passes with real fetch and DNS.
  dispatcher = startDispatchLoop(() => dispatchDue(database.db, { fetch, now: () => new Date(), resolve: resolveWithNodeDns, random: Math.random, allowLoopback: true }));
});

afterAll(async () => {
  killStarted(); // an agent a failed test left running
  await dispatcher?.stop();
  await new Promise<void>((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    (server as Server).closeAllConnections();
  });
  await receiver?.close();
  await database.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('issue #5: policy → bundle → agent admission → audit ingest → summary → signed webhook deliveries', () => {
  it('runs the whole audit pipeline with the real agent process', { timeout: 120_000 }, async () => {
    // 1. A tenant (over HTTP, with the operator key) and, as its admin, scope, policies, cluster and two webhooks.
    const tenant = await api('POST', '/v1/tenants', { name: 'acme' }, OPERATOR_KEY);
    expect(tenant.status, JSON.stringify(tenant.body)).toBe(201);
    adminKey = tenant.body.apiKey;
    const scope = await created('/v1/scopes', { name: 'e2e', resources: [{ type: 'cluster', cluster: 'e2e-*' }] });
    const enforcePolicy = await created('/v1/runtime-policies', {
      name: 'e2e-baseline',
      mode: 'enforce',
      scopeIds: [scope.id],
      limitContainerPrivileges: { enabled: true, settings: ['privileged', 'hostNetwork'] },
      registriesAllowed: { enabled: true, registries: ['ghcr.io/acme'] },
    });
    const auditPolicy = await created('/v1/runtime-policies', {
      name: 'e2e-hygiene',
      mode: 'audit',
      scopeIds: [scope.id],
      bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'memoryLimitsSet'] },
    });
    const policies: Record<PolicyKey, { id: string; name: string }> = { enforce: enforcePolicy, audit: auditPolicy };
    const policyKey = (id: string) => (Object.keys(policies) as PolicyKey[]).find((k) => policies[k].id === id);
    const cluster = await created('/v1/clusters', { name: 'e2e-prod' });
    const all = await created('/v1/webhooks', { name: 'siem', url: `${receiver.base}/all` });
    const blockedOnly = await created('/v1/webhooks', { name: 'pager', url: `${receiver.base}/blocked`, filters: { verdicts: ['blocked'], clusterIds: [cluster.id] } });
    expect(all.secret).toMatch(/^whsec_/);
    expect(blockedOnly.secret).not.toBe(all.secret);
    const token = await created('/v1/clusters/' + cluster.id + '/enrollment-tokens', {});

    // 2. The real CLI enrolls; the configuration gets the webhook (self-signed certificate) and audit sections.
    const enrolled = await cli('enroll', '--url', url, '--token', token.token, '--out', dir);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain(`enrolled cluster ${cluster.id}`);
    const configFile = join(dir, 'config.json');
    const pair = await selfSigned();
    await writeFile(join(dir, 'tls.crt'), pair.cert);
    await writeFile(join(dir, 'tls.key'), pair.key, { mode: 0o600 });
    // The API server's admission client certificate, from a CA of its own (see the README's install section).
    const authority = await clientCa();
    await writeFile(join(dir, 'client-ca.crt'), authority.cert);
    const apiServer = { ca: pair.cert, ...(await clientIdentity('kube-apiserver', authority)) };
    const config = JSON.parse(await readFile(configFile, 'utf8'));
    expect(config).toMatchObject({ url, clusterId: cluster.id, tenantId: tenant.body.tenant.id });
    config.webhook = { listen: '127.0.0.1', port: 0, certFile: 'tls.crt', keyFile: 'tls.key', clientCaFile: 'client-ca.crt', clientNames: ['kube-apiserver'], failurePolicy: 'closed', requestDeadlineMs: 10_000 };
    config.audit = { batchMaxWaitMs: 200, uploadTimeoutMs: 20_000 };
    await writeFile(configFile, JSON.stringify(config, null, 2));

    // 3. The real agent process: bundle polling, HTTPS admission webhook, audit spool and shipper.
    const agent = start(['run', '--config', configFile]);
    /** SIGTERM to the agent itself (npx does not forward signals); SIGKILL to its process group if it lingers. */
    const stopAgent = async () => {
      const pid = Number(/"event":"starting","pid":(\d+)/.exec(agent.output())?.[1]);
      if (agent.child.exitCode === null && agent.child.signalCode === null) {
        if (pid > 0) process.kill(pid, 'SIGTERM');
        else killHard(agent.child);
      }
      const timer = setTimeout(() => killHard(agent.child), 20_000);
      try {
        return await agent.done;
      } finally {
        clearTimeout(timer);
      }
    };
    let run: Awaited<typeof agent.done> | undefined;
    try {
      const listening = await pollUntil(async () => /"event":"webhook_listening","address":"127\.0\.0\.1","port":(\d+)/.exec(agent.output()), (m) => m !== null || agent.child.exitCode !== null);
      expect(listening, agent.output()).not.toBeNull();
      const webhookUrl = `https://127.0.0.1:${listening![1]}`;
      const ready = await pollUntil(() => call(`${webhookUrl}/readyz`, pair.cert), (r) => r.status === 200);
      const revision = Number((await api('GET', `/v1/clusters/${cluster.id}/bundle`)).headers.get('palisade-bundle-revision'));
      expect(revision).toBeGreaterThan(0);
      expect(ready.text).toBe(`ready: bundle revision ${revision}\n`);
      expect(ready.fingerprint).toBe(pair.fingerprint);

      // 4. AdmissionReview v1 requests as kube-apiserver sends them; each answer follows from the findings table.
      for (const c of CASES) {
        const sent = review(c.object, { dryRun: c.dryRun ?? false });
        const reply = await postReview(webhookUrl, apiServer, sent);
        expect(reply.status, reply.text).toBe(200);
        const body = reply.json();
        expect(body).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: sent.request.uid } });
        const { response } = body;
        const enforced = c.findings.filter((f) => f.policy === 'enforce');
        const audited = c.findings.filter((f) => f.policy === 'audit');
        expect(response.allowed, c.name).toBe(enforced.length === 0);
        if (enforced.length === 0) expect(response.status, c.name).toBeUndefined();
        else {
          expect(response.status).toMatchObject({ code: 403, reason: 'Forbidden' });
          const [head, ...lines] = (response.status.message as string).split('\n');
          expect(head).toBe(`Palisade denied Pod "${c.name}" in namespace "shop" (bundle revision ${revision}):`);
          expect(lines.map((l) => /\[policy "([^"]+)", check ([\w.]+)\]$/.exec(l)?.slice(1)).sort(), c.name).toEqual(enforced.map((f) => [policies.enforce.name, f.check]).sort());
        }
        const warnings: string[] = response.warnings ?? [];
        expect(warnings.map((w) => /^Palisade audit: .*\[policy "([^"]+)", check ([\w.]+)\]$/.exec(w)?.slice(1)).sort(), c.name).toEqual(audited.map((f) => [policies.audit.name, f.check]).sort());
      }

      // 5. The events arrive through spool and shipper: poll the summary until it counts them all (summaries count
      // finding groups: the 4 events hold 9).
      expect(EXPECTED).toHaveLength(9);
      expect(EXPECTED_EVENTS).toHaveLength(4);
      const window = `from=${new Date(Date.now() - 3600_000).toISOString()}&to=${new Date(Date.now() + 3600_000).toISOString()}&clusterId=${cluster.id}`;
      const summary = (groupBy: string) => api('GET', `/v1/audit/summary?groupBy=${groupBy}&bucket=hour&${window}`);
      const totals = (res: Awaited<ReturnType<typeof summary>>, dim: string) =>
        Object.fromEntries((res.body.groups as Array<{ key: Record<string, string>; total: number }>).map((g) => [g.key[dim], g.total]));
      const byVerdict = await pollUntil(() => summary('verdict'), (r) => r.status === 200 && r.body.total >= EXPECTED.length);
      expect(byVerdict.status, JSON.stringify(byVerdict.body)).toBe(200);
      expect(byVerdict.body.total, agent.output()).toBe(EXPECTED.length);
      expect(totals(byVerdict, 'verdict')).toEqual(count(EXPECTED, (e) => e.verdict)); // blocked 4, alerted 5
      expect(totals(byVerdict, 'verdict')).toEqual({ blocked: 4, alerted: 5 });
      const byPolicy = await summary('policy');
      expect(totals(byPolicy, 'policy')).toEqual({ [policies.enforce.id]: 4, [policies.audit.id]: 5 });
      const byPolicyVerdict = await summary('policy,verdict');
      expect(byPolicyVerdict.body.groups.map((g: { key: { policy: string; verdict: string }; total: number }) => [policyKey(g.key.policy), g.key.verdict, g.total]).sort()).toEqual([
        ['audit', 'alerted', 5],
        ['enforce', 'blocked', 4],
      ]);
      // Grouped by check, the summary counts findings rather than events.
      const byCheck = await summary('check');
      expect(totals(byCheck, 'check')).toEqual(count(EXPECTED.flatMap((e) => e.checks), (c) => c));
      // The offending workloads, most events first (ties in any order).
      const top = byVerdict.body.topWorkloads as Array<{ workload: string; count: number }>;
      expect(top.map((t) => t.count)).toEqual([...top.map((t) => t.count)].sort((a, b) => b - a));
      expect(Object.fromEntries(top.map((t) => [t.workload, t.count]))).toEqual(count(EXPECTED, (e) => `shop/Pod/${e.pod}`));

      // ... and the raw events say exactly what the decisions imply: one per decision, each finding attributed to its
      // policy, mode and container.
      const listed = await api('GET', `/v1/audit/events?clusterId=${cluster.id}&limit=200`);
      expect(listed.status).toBe(200);
      const events = listed.body.items as Array<AuditEventV1 & { clusterId: string; receivedAt: string }>;
      expect(events.map((e) => ({ pod: e.workload!.name, verdict: e.verdict })).sort((a, b) => a.pod.localeCompare(b.pod))).toEqual([...EXPECTED_EVENTS].sort((a, b) => a.pod.localeCompare(b.pod)));
      expect(new Set(events.map((e) => e.id)).size).toBe(EXPECTED_EVENTS.length);
      const groups = new Map<string, { pod: string; policy: PolicyKey; container: string | null; verdict: string; checks: string[]; severity: string }>();
      for (const e of events) {
        expect(e).toMatchObject({ kind: 'admission', clusterId: cluster.id, bundleRevision: revision, workload: { namespace: 'shop', kind: 'Pod' } });
        expect(e.mode).toBe(e.verdict === 'blocked' ? 'enforce' : 'audit');
        const named = new Set(e.checks.map((c) => c.policy!.id));
        if (named.size === 1) expect(e.policy).toEqual(e.checks[0]!.policy);
        else expect(e.policy).toBeUndefined(); // a decision about several policies names them in its checks
        for (const c of e.checks) {
          const key = policyKey(c.policy!.id)!;
          expect(c.policy).toEqual({ id: policies[key].id, name: policies[key].name, revision: 1 });
          expect(c.mode).toBe(key);
          const id = `${e.workload!.name}/${key}/${c.container ?? ''}`;
          const g = groups.get(id) ?? { pod: e.workload!.name, policy: key, container: c.container ?? null, verdict: key === 'enforce' ? 'blocked' : 'alerted', checks: [], severity: 'low' };
          g.checks.push(c.id);
          g.checks.sort();
          if (RANK[c.severity] > RANK[g.severity as keyof typeof RANK]) g.severity = c.severity;
          groups.set(id, g);
        }
      }
      expect(bySortKey([...groups.values()])).toEqual(bySortKey(EXPECTED));
      const miner = events.find((e) => e.workload!.name === 'miner')!;
      expect(miner.workload).toMatchObject({ pod: 'miner' });
      expect(miner.checks.find((c) => c.container === 'app' && c.mode === 'enforce')).toMatchObject({ image: 'quay.io/evil/miner:latest' });

      // 6. The outbox: one signed delivery per stored event to the unfiltered endpoint, the blocked ones to the other.
      const blockedIds = events.filter((e) => e.verdict === 'blocked').map((e) => e.id);
      const at = (path: string) => receiver.received.filter((r) => r.path === path);
      await pollUntil(async () => [at('/all').length, at('/blocked').length], ([a, b]) => a! >= events.length && b! >= blockedIds.length);
      const toAll = at('/all');
      const toBlocked = at('/blocked');
      expect(toAll).toHaveLength(events.length);
      expect(toBlocked).toHaveLength(blockedIds.length);
      const stored = new Map(events.map(({ clusterId: _c, receivedAt: _r, ...event }) => [event.id, event]));
      for (const [received, secret, other] of [
        [toAll, all.secret, blockedOnly.secret],
        [toBlocked, blockedOnly.secret, all.secret],
      ] as const) {
        for (const r of received) {
          expect(r.headers['content-type']).toBe('application/json');
          expect(r.headers['webhook-id']).toMatch(/^msg_[0-9a-f]{32}$/);
          const payload = verify(secret, r);
          expect(() => verify(other, r)).toThrow(/No matching signature/);
          const event = stored.get(payload.data.event.id);
          expect(event, `delivered event ${payload.data.event.id} is not stored`).toBeDefined();
          expect(payload).toEqual({ type: 'audit.event', timestamp: event!.time, data: { clusterId: cluster.id, event } });
        }
        expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(received.length);
      }
      expect(toAll.map((r) => JSON.parse(r.body).data.event.id).sort()).toEqual([...stored.keys()].sort());
      expect(toBlocked.map((r) => JSON.parse(r.body).data.event.id).sort()).toEqual([...blockedIds].sort());
      // The delivery logs agree: each webhook-id is a delivery, delivered on its first attempt.
      for (const [hook, received] of [
        [all, toAll],
        [blockedOnly, toBlocked],
      ] as const) {
        const logged = await pollUntil(
          async () => (await api('GET', `/v1/webhooks/${hook.webhook.id}/deliveries?limit=200`)).body.items as Array<{ id: string; status: string; attempts: number; lastStatusCode: number }>,
          (items) => items.length === received.length && items.every((d) => d.status === 'delivered'),
        );
        expect(logged.map((d) => d.id).sort()).toEqual(received.map((r) => String(r.headers['webhook-id'])).sort());
        for (const d of logged) expect(d).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204 });
      }
    } finally {
      // 7. SIGTERM: the agent closes the webhook, flushes the spool and sends a last status report.
      run = await stopAgent();
    }
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"event":"stopping","signal":"SIGTERM"');
    expect(run.stdout).not.toContain('audit_events_refused');

    // After the agent stopped: its last status report has the counters, and nothing more arrived anywhere.
    const status = await api('GET', `/v1/clusters/${cluster.id}/status`);
    const live = CASES.filter((c) => !c.dryRun);
    expect(status.body.counters).toMatchObject({
      admissionAllowed: CASES.filter((c) => c.findings.every((f) => f.policy !== 'enforce')).length,
      admissionDenied: CASES.filter((c) => c.findings.some((f) => f.policy === 'enforce')).length,
      auditEvents: live.filter((c) => c.findings.length > 0).length,
      auditShippedAccepted: EXPECTED_EVENTS.length,
      auditSpooled: 0,
      auditDroppedOverflow: 0,
    });
    expect((await api('GET', `/v1/audit/events?clusterId=${cluster.id}&limit=200`)).body.items).toHaveLength(EXPECTED_EVENTS.length);
    expect(receiver.received).toHaveLength(EXPECTED_EVENTS.length + EXPECTED_EVENTS.filter((e) => e.verdict === 'blocked').length);
  });
});
