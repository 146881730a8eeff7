import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { BundleContentV1 } from '../../../schema/bundle.ts';
import type { AgentEnforcement } from '../../../schema/enforcement.ts';
import { scanRequest } from '../file-threat/scan-request.ts';
import type { FileThreatService } from '../file-threat/service.ts';
import { uuidv7 } from '../webhook/uuid.ts';
import type { NodeAgentConfig } from './config.ts';
import { FileTail } from './file-tail.ts';
import { FqdnResolver, type ResolveFn } from './fqdn.ts';
import { syncTracingPolicies, type TracingPolicyApi } from './kube.ts';
import { renderNodeMetrics, runtimeStatusCounters, type NodeGauges } from './metrics.ts';
import { PodCache } from './pods.ts';
import { planTracingPolicies } from './policy-plan.ts';
import { RuntimeProcessor } from './processor.ts';
import { RuntimeRules } from './rules.ts';

type Log = (entry: Record<string, unknown>) => void;

export interface NodeAgentDeps {
  node: string;
  settings: NodeAgentConfig;
  /** The active bundle content and revision (the bundle client's), or null before the first. */
  bundle: () => { content: BundleContentV1; revision: number } | null;
  onAudit: (events: AuditEventV1[]) => void;
  /** Tetragon policy objects in the cluster; absent: no kernel enforcement (detect only). */
  policies?: TracingPolicyApi;
  /** Pod cache kept by a watcher, if any. */
  pods?: PodCache;
  resolve: ResolveFn;
  kill?: (pid: number, binary: string) => boolean;
  log?: Log;
  now?: () => Date;
  /** File Threat Protection (`node.fileThreat`), started and stopped with the agent. */
  fileThreat?: FileThreatService;
}

/**
 * The node agent of `palisade-agent node`: sensors → bounded queue → decisions → audit events and enforcement, the
 * Tetragon policies kept in step with the bundle and this node's pods, FQDNs resolved, and `/metrics`, `/healthz`,
 * `/readyz` served. Node only; the CLI wires the bundle client, audit spool, pod watch and Kubernetes API into it.
 */
export class NodeAgent {
  readonly pods: PodCache;
  readonly processor: RuntimeProcessor;
  readonly resolver: FqdnResolver;
  readonly #tails: FileTail[] = [];
  #rules: RuntimeRules | null = null;
  #server: Server | undefined;
  #timers: Array<ReturnType<typeof setInterval>> = [];
  #syncing: Promise<void> | undefined;
  #syncAgain = false;
  readonly sync = { runs: 0, errors: 0, objects: 0, lastError: null as string | null, userSpace: new Map<string, string[]>() };

  constructor(private readonly d: NodeAgentDeps) {
    this.pods = d.pods ?? new PodCache();
    this.resolver = new FqdnResolver({
      resolve: d.resolve,
      minRefreshMs: d.settings.dnsMinRefreshSeconds * 1000,
      maxRefreshMs: d.settings.dnsMaxRefreshSeconds * 1000,
      onChange: () => this.requestSync(),
    });
    this.processor = new RuntimeProcessor({
      capacity: d.settings.queueCapacity,
      rules: () => this.rules(),
      pods: this.pods,
      names: this.resolver,
      newId: uuidv7,
      onAudit: d.onAudit,
      ...(d.settings.killDetectOnly && d.kill ? { kill: d.kill } : {}),
      ...(d.now ? { now: d.now } : {}),
    });
  }

  /** Kernel enforcement needs a Tetragon sensor and the policy sync; otherwise everything is detect only. */
  get detectOnly(): boolean {
    return !(this.d.policies && this.d.settings.tetragonPolicies && this.d.settings.sensors.some((s) => s.kind === 'tetragon'));
  }

  /** The rules of the active bundle, compiled once per revision. */
  rules(): RuntimeRules | null {
    const active = this.d.bundle();
    if (!active) return null;
    if (this.#rules?.revision !== active.revision || this.#rules.bundle !== active.content) {
      this.#rules = new RuntimeRules(active.content, active.revision);
      this.resolver.setNames(this.#rules.fqdns());
      void this.resolver.refresh();
      this.requestSync();
    }
    return this.#rules;
  }

  async start(configDir: string): Promise<AddressInfo> {
    for (const s of this.d.settings.sensors) {
      const path = s.path.startsWith('/') ? s.path : `${configDir}/${s.path}`;
      const tail = new FileTail(path, { fromStart: s.fromStart, onLine: (line) => this.processor.push(line, s.kind), onOversized: () => this.processor.push('', s.kind), onError: (err) => this.#log({ event: 'sensor_read_failed', path, message: err.message }) });
      tail.start();
      this.#tails.push(tail);
    }
    this.#timers.push(setInterval(() => this.processor.drain(), 10));
    this.#timers.push(setInterval(() => void this.resolver.refresh(), 1000));
    this.#timers.push(setInterval(() => (this.#rules?.clearBindings(), this.requestSync()), this.d.settings.syncSeconds * 1000));
    this.#server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/metrics') res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderNodeMetrics(this.processor.counters, this.gauges()) + (this.d.fileThreat?.metrics() ?? ''));
      else if (path === '/scan' && req.method === 'POST' && this.d.fileThreat) scanRequest(this.d.fileThreat, req, res);
      else if (path === '/healthz') res.writeHead(200).end('ok\n');
      else if (path === '/readyz') this.rules() ? res.writeHead(200).end('ready\n') : res.writeHead(503).end('no bundle\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => this.#server!.listen(this.d.settings.port, this.d.settings.listen, r));
    this.rules();
    await this.d.fileThreat?.start();
    return this.#server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    await Promise.all(this.#tails.map((t) => t.stop()));
    this.processor.drain(Infinity);
    await this.#syncing;
    await this.d.fileThreat?.stop();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /** Reconciles the Tetragon policies soon (coalesced: one run at a time, one more if asked meanwhile). */
  requestSync(): Promise<void> | undefined {
    if (!this.d.policies || !this.d.settings.tetragonPolicies) return undefined;
    if (this.#syncing) {
      this.#syncAgain = true;
      return this.#syncing;
    }
    this.#syncing = (async () => {
      do {
        this.#syncAgain = false;
        await this.#syncOnce();
      } while (this.#syncAgain);
    })().finally(() => (this.#syncing = undefined));
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    const rules = this.#rules;
    if (!rules) return;
    const plan = planTracingPolicies(rules, this.pods.all(), this.d.node, (this.d.now ?? (() => new Date()))(), (n) => this.resolver.addressesOf(n));
    try {
      const result = await syncTracingPolicies(this.d.policies!, this.d.node, plan.objects);
      this.sync.runs++;
      this.sync.objects = plan.objects.size;
      this.sync.lastError = null;
      this.sync.userSpace = plan.userSpace;
      if (result.created + result.updated + result.deleted > 0) this.#log({ event: 'tetragon_policies_synced', revision: rules.revision, ...result, objects: plan.objects.size, unselectablePods: plan.unselectable.length });
    } catch (err) {
      this.sync.errors++;
      this.sync.lastError = err instanceof Error ? err.message : String(err);
      this.#log({ event: 'tetragon_policies_sync_failed', message: this.sync.lastError });
    }
  }

  gauges(): NodeGauges {
    return {
      bundleRevision: this.#rules?.revision ?? 0, queued: this.processor.queued, capacity: this.processor.capacity, pods: this.pods.size,
      tetragonPolicies: this.sync.objects, syncErrors: this.sync.errors, syncs: this.sync.runs, fqdnFailures: this.resolver.failures, detectOnly: this.detectOnly,
    };
  }

  /** What this node agent enforces, for the status report (see `schema/enforcement.ts`). */
  enforcement(): AgentEnforcement {
    // File Threat Protection counts once it scans: signatures loaded, and container ids known from the pod watch.
    const ftp = this.d.fileThreat?.enforcing && this.d.settings.podWatch ? (['fileThreatProtection'] as const) : [];
    // Without a sensor no process or connection is seen: runtime profiles are not claimed at all.
    const runtime = this.d.settings.sensors.length > 0 ? (['containerRuntimeProfiles'] as const) : [];
    return { component: 'node', instance: this.d.node, sections: [...runtime, ...ftp], detectOnly: runtime.length > 0 && this.detectOnly ? ['containerRuntimeProfiles'] : [] };
  }

  statusCounters(): Record<string, number> {
    return { ...runtimeStatusCounters(this.processor.counters, this.gauges()), ...this.d.fileThreat?.statusCounters() };
  }

  #log(entry: Record<string, unknown>): void {
    this.d.log?.(entry);
  }
}
