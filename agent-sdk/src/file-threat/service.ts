import { availableParallelism } from 'node:os';
import type { AuditEventV1, AuditFile } from '../../../schema/audit-event.ts';
import type { BundleContentV1 } from '../../../schema/bundle.ts';
import type { FileThreatProtectionSettings } from '../../../schema/file-threat-protection.ts';
import type { PodInfo } from '../runtime/mapping.ts';
import { isExcluded } from '../scanner/scan-files.ts';
import { scanOptionsFrom } from '../scanner/types.ts';
import type { FileThreatConfig } from './config.ts';
import { NotScannedAggregator } from './aggregate.ts';
import { coveredContainers } from './coverage.ts';
import type { ContainerTarget } from './events.ts';
import { FileScanner } from './file-scan.ts';
import { fileThreatStatusCounters, newFileThreatCounters, renderFileThreatMetrics, type FileThreatGauges } from './metrics.ts';
import { respond } from './respond.ts';
import type { ContainerRoots } from './roots.ts';
import { ScanQueue, type QueuedFile } from './scan-queue.ts';
import type { SignatureSource } from './signatures.ts';
import { hostPath, walkTree } from './tree.ts';
import { TreeWatcher } from './watcher.ts';

export interface FileThreatDeps {
  config: FileThreatConfig;
  /** `check()`, when the source has one, is called every `signatureCheckSeconds` (file-based sets re-read on change). */
  signatures: SignatureSource & { check?: () => Promise<unknown> };
  roots: ContainerRoots;
  bundle: () => { content: BundleContentV1; revision: number } | null;
  pods: () => Iterable<PodInfo>;
  onAudit: (events: AuditEventV1[]) => void;
  newId: () => string;
  now?: () => Date;
  setImmutable?: (hostPath: string) => Promise<void>;
  log?: (entry: Record<string, unknown>) => void;
}

interface Target extends ContainerTarget {
  watcher: TreeWatcher;
  lastFullScan: number;
  scanning: boolean;
  /** A change notification was dropped: scan everything again once the queue has room. */
  catchUp: boolean;
}

/**
 * File Threat Protection on this node: works out the covered containers (bundle × pods, `fileThreatCoverage`), reaches
 * their filesystems (`ContainerRoots`), watches them (`TreeWatcher`), scans changed files once they settle, every
 * file every `fullScanSeconds` and on request (`scanNow`), on the scan pool with the verdict cache, acts on
 * detections as the tenant's settings say (enforce mode and an Enforce-mode policy), and reports every detection and
 * every file not fully scanned as a `fileThreat` audit event. The settings' `scanMode` cannot be honoured as named (no
 * fanotify from Node: files are scanned after they are written, never on open) and `heuristicLevel` does not apply
 * (signatures only).
 *
 * @example
 * ```ts
 * const ftp = new FileThreatService({ config: FileThreatConfig.parse({ signatures }), signatures: new FileSignatureSource(signatures),
 *   roots: procRoots(), bundle, pods: () => podCache.all(), onAudit: (events) => spool(events), newId: uuidv7 });
 * await ftp.start(); // then ftp.scanNow(), ftp.metrics(), ftp.enforcing; await ftp.stop()
 * ```
 */
export class FileThreatService {
  readonly counters = newFileThreatCounters();
  readonly scanner: FileScanner;
  readonly queue: ScanQueue;
  readonly #targets = new Map<string, Target>();
  /** Findings already reported, so that an unchanged infected file is reported once, not at every full scan. */
  readonly #reported = new Set<string>();
  readonly #timers: Array<ReturnType<typeof setInterval>> = [];
  readonly #concurrency: number;
  readonly #aggregator: NotScannedAggregator;
  #running = 0;
  #stopped = false;
  #reconciling: Promise<void> | undefined;
  #reconcileAgain = false;
  #revision = -1;
  #applied = '';
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly d: FileThreatDeps) {
    const workers = d.config.workers ?? Math.max(1, availableParallelism() - 1);
    this.scanner = new FileScanner(d.config.cacheEntries, workers);
    this.queue = new ScanQueue(d.config.queueCapacity, d.config.settleMilliseconds);
    this.#concurrency = workers * 2;
    this.#aggregator = new NotScannedAggregator(d.config.notScannedWindowSeconds * 1000, d.newId);
  }

  /** The tenant's settings in the active bundle; null when no policy turns File Threat Protection on. */
  settings(): FileThreatProtectionSettings | null {
    return this.d.bundle()?.content.fileThreatProtection ?? null;
  }

  targets(): ContainerTarget[] {
    return [...this.#targets.values()].map(({ id, namespace, pod, container, image, root, bindings }) => ({ id, namespace, pod, container, image, root, bindings }));
  }

  /** True once a signature set is loaded: the node then enforces the section (see `schema/enforcement.ts`). */
  get enforcing(): boolean {
    return !this.#stopped && this.d.signatures.current() !== undefined;
  }

  /** Scans queued or running, or a full scan still walking. */
  get busy(): boolean {
    return this.#running > 0 || this.queue.size > 0 || [...this.#targets.values()].some((t) => t.scanning);
  }

  async start(): Promise<void> {
    this.#unsubscribe = this.d.signatures.subscribe(() => this.#apply());
    await this.d.signatures.check?.();
    const c = this.d.config;
    if (this.d.signatures.check) this.#timers.push(setInterval(() => void this.d.signatures.check!(), c.signatureCheckSeconds * 1000));
    this.#timers.push(setInterval(() => this.#tick(), Math.min(100, Math.max(10, c.settleMilliseconds))));
    this.#timers.push(setInterval(() => void this.reconcile(), c.reconcileSeconds * 1000));
    await this.reconcile();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    for (const t of this.#timers) clearInterval(t);
    this.#emit(this.#aggregator.drain());
    for (const t of this.#targets.values()) t.watcher.close();
    this.queue.release();
    await this.#reconciling;
    await this.scanner.close();
  }

  /** Scans every file of the covered containers matching the filter now; answers how many containers. */
  scanNow(filter: { namespace?: string; pod?: string; container?: string } = {}): number {
    const chosen = [...this.#targets.values()].filter((t) => (!filter.namespace || t.namespace === filter.namespace) && (!filter.pod || t.pod === filter.pod) && (!filter.container || t.container === filter.container));
    for (const t of chosen) void this.#fullScan(t, 'onDemand');
    return chosen.length;
  }

  /** Works the covered containers out again (coalesced: one run at a time, one more if asked meanwhile). */
  reconcile(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#reconciling) {
      this.#reconcileAgain = true;
      return this.#reconciling;
    }
    this.#reconciling = (async () => {
      do {
        this.#reconcileAgain = false;
        await this.#reconcileOnce().catch((err: Error) => this.#log({ event: 'file_threat_reconcile_failed', message: err.message }));
      } while (this.#reconcileAgain && !this.#stopped);
    })().finally(() => (this.#reconciling = undefined));
    return this.#reconciling;
  }

  gauges(): FileThreatGauges {
    const targets = [...this.#targets.values()];
    return {
      queued: this.queue.size, containers: targets.length, watches: targets.reduce((n, t) => n + t.watcher.watches, 0),
      watchLimited: targets.filter((t) => t.watcher.limited).length, signatures: (this.d.signatures.current()?.signatures.length ?? 0) + 1,
    };
  }

  metrics(): string {
    return renderFileThreatMetrics(this.counters, this.gauges());
  }

  statusCounters(): Record<string, number> {
    return fileThreatStatusCounters(this.counters, this.gauges());
  }

  #skip = (path: string): boolean => isExcluded(path, this.d.config.skipPaths) || isExcluded(path, this.settings()?.pathExclusions ?? []);

  /** Takes the current signatures and settings; a change forgets what was reported and scans everything again. */
  #apply(): void {
    const set = this.d.signatures.current();
    const settings = this.settings();
    if (!set || !settings || this.#stopped) return;
    const scanning = this.scanner.use(set, scanOptionsFrom(settings));
    // New settings (actions, modes, exclusions) apply to the files already there, not only to new ones.
    const applied = `${set.version}\0${JSON.stringify(settings)}`;
    if (!scanning && applied === this.#applied) return;
    this.#applied = applied;
    this.#reported.clear();
    this.#log({ event: 'file_threat_signatures_applied', version: set.version, signatures: set.signatures.length + 1, containers: this.#targets.size });
    for (const t of this.#targets.values()) void this.#fullScan(t, 'fullScan');
  }

  async #reconcileOnce(): Promise<void> {
    const active = this.d.bundle();
    const settings = active?.content.fileThreatProtection ?? null;
    const now = (this.d.now ?? (() => new Date()))();
    this.#apply();
    const desired = active && settings ? coveredContainers(active.content, this.d.pods(), now) : new Map<string, never>();
    const roots = desired.size > 0 ? await this.d.roots.resolve([...desired.keys()]) : new Map<string, string>();
    for (const [id, t] of this.#targets) {
      if (roots.get(id) === t.root) continue;
      t.watcher.close();
      this.#targets.delete(id);
      this.queue.dropTarget(id);
    }
    for (const [id, want] of desired) {
      const root = roots.get(id);
      const have = this.#targets.get(id);
      if (have) have.bindings = want.bindings;
      if (have || !root || this.#stopped) continue;
      const watcher = new TreeWatcher(root, {
        skip: this.#skip, maxWatches: this.d.config.maxWatchesPerContainer,
        onFile: (path) => this.#changed(id, path), onError: (path, err) => this.#error(id, path, err),
      });
      const t: Target = { ...want, root, watcher, lastFullScan: Date.now(), scanning: false, catchUp: false };
      this.#targets.set(id, t);
      this.#log({ event: 'file_threat_container_covered', namespace: t.namespace, pod: t.pod, container: t.container, root });
      // Watch first, then scan everything: a file written in between is seen by one or the other.
      await watcher.start();
      void this.#fullScan(t, 'fullScan');
    }
  }

  #changed(target: string, path: string): void {
    if (this.queue.changed({ target, path, trigger: 'change' })) return;
    this.counters.queueDropped++;
    const t = this.#targets.get(target);
    if (t) t.catchUp = true;
  }

  #error(target: string, path: string, err: Error): void {
    this.counters.errors++;
    const t = this.#targets.get(target);
    this.#log({ event: 'file_threat_walk_failed', container: t?.container, pod: t?.pod, path, message: err.message });
  }

  #tick(): void {
    const revision = this.d.bundle()?.revision ?? 0;
    if (revision !== this.#revision) {
      this.#revision = revision;
      void this.reconcile();
    }
    const now = Date.now();
    const period = this.d.config.fullScanSeconds * 1000;
    for (const t of this.#targets.values()) {
      if (t.catchUp && this.queue.size < this.queue.capacity / 2) void this.#fullScan(t, 'fullScan');
      else if (now - t.lastFullScan >= period) void this.#fullScan(t, 'fullScan');
    }
    this.#emit(this.#aggregator.due(now));
    this.#pump();
  }

  async #fullScan(t: Target, trigger: AuditFile['trigger']): Promise<void> {
    if (t.scanning || this.#stopped) return;
    t.scanning = true;
    t.catchUp = false;
    t.lastFullScan = Date.now();
    this.counters.fullScans++;
    try {
      for await (const e of walkTree(t.root, '/', this.#skip, (path, err) => this.#error(t.id, path, err))) {
        if (this.#stopped || this.#targets.get(t.id) !== t) break;
        if (e.dir) continue;
        await this.queue.whenRoom();
        this.queue.add({ target: t.id, path: e.path, trigger });
        this.#pump();
      }
    } finally {
      t.scanning = false;
    }
  }

  #pump(): void {
    if (!this.scanner.generation) return;
    while (!this.#stopped && this.#running < this.#concurrency) {
      const file = this.queue.take();
      if (!file) return;
      this.#running++;
      void this.#scan(file)
        .catch((err: Error) => this.#error(file.target, file.path, err))
        .finally(() => {
          this.#running--;
          this.#pump();
        });
    }
  }

  async #scan(f: QueuedFile): Promise<void> {
    const t = this.#targets.get(f.target);
    const settings = this.settings();
    if (!t || !settings || this.#skip(f.path)) return;
    const r = await this.scanner.scan(hostPath(t.root, f.path), settings.scanOnlyNewAndModified);
    if (r.kind === 'gone') return void this.counters.vanished++;
    if (r.kind === 'stale') return this.queue.add(f);
    const v = r.verdict;
    this.counters.scanned[v.verdict]++;
    if (r.cached) this.counters.cacheHits++;
    if (v.verdict === 'clean' || this.#stopped) return;
    const finding = `${t.id}\0${f.path}\0${r.identity.dev}:${r.identity.ino}:${r.identity.size}:${r.identity.mtimeNs}\0${JSON.stringify(v)}`;
    if (this.#reported.has(finding) && f.trigger !== 'onDemand') return;
    if (this.#reported.size >= 100_000) this.#reported.clear();
    this.#reported.add(finding);
    if (v.verdict === 'infected') this.counters.detections++;
    const deps = { quarantineDir: this.d.config.quarantineDir, newId: this.d.newId, now: this.d.now ?? (() => new Date()), ...(this.d.setImmutable ? { setImmutable: this.d.setImmutable } : {}) };
    const event = await respond({ target: t, file: f, verdict: v, identity: r.identity, size: r.size, ...(r.digest ? { digest: r.digest } : {}) }, settings, deps, this.d.bundle()?.revision ?? 0);
    for (const a of event.file!.actions) this.counters.actions[a.action][a.ok ? 'ok' : 'failed']++;
    this.#emit(this.#aggregator.offer(event, Date.now()));
    this.#log({ event: v.verdict === 'infected' ? 'file_threat_detected' : 'file_threat_not_fully_scanned', namespace: t.namespace, pod: t.pod, container: t.container, path: f.path, verdict: event.file });
  }

  #emit(events: AuditEventV1[]): void {
    if (events.length === 0) return;
    this.counters.auditEvents += events.length;
    this.d.onAudit(events);
  }

  #log(entry: Record<string, unknown>): void {
    this.d.log?.(entry);
  }
}
