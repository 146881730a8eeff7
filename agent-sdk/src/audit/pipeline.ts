import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import { DROP_REASONS } from './cursor.ts';
import { dropDelta, dropReportEvent } from './drop-report.ts';
import { Shipper, type ShipperOptions } from './shipper.ts';
import { Spool, type SpoolOptions } from './spool.ts';
import type { AppendResult } from './spool-policy.ts';
import { uuidv7 } from '../webhook/uuid.ts';

export interface AuditPipelineOptions {
  /** The spool directory (one agent process per directory). */
  spoolDir: string;
  spool?: SpoolOptions;
  shipper: Omit<ShipperOptions, 'spool'>;
  /** How often new drops are reported as an `agent` event (default 60 s; 0: only by `reportDrops()`). */
  dropReportMs?: number;
  /** The active bundle revision, for the `agent` events (default 0). */
  bundleRevision?: () => number;
  newId?: () => string;
}

/**
 * The agent's audit path: `record(events)` spools them durably (resolving once taken), a `Shipper` sends the spool to
 * the control plane, and drops are reported periodically as an `agent` event and always in `counters()`.
 *
 * @example
 * ```ts
 * const audit = await AuditPipeline.open({ spoolDir, shipper: { url, credential } });
 * audit.start();
 * await audit.record(auditEvents(decision, input, { newId: () => uuidv7(), now: new Date() }));
 * // on shutdown
 * await audit.stop();
 * ```
 */
export class AuditPipeline {
  #timer: ReturnType<typeof setInterval> | undefined;

  private constructor(
    readonly spool: Spool,
    readonly shipper: Shipper,
    private readonly options: AuditPipelineOptions,
  ) {}

  static async open(options: AuditPipelineOptions): Promise<AuditPipeline> {
    const spool = await Spool.open(options.spoolDir, options.spool);
    return new AuditPipeline(spool, new Shipper({ ...options.shipper, spool }), options);
  }

  /** Spools events; resolves once they are durable (or says which were dropped and why). */
  record(events: AuditEventV1[]): Promise<AppendResult> {
    return this.spool.append(events);
  }

  start(): void {
    this.shipper.start();
    const every = this.options.dropReportMs ?? 60_000;
    if (every > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => void this.reportDrops().catch(() => undefined), every);
      this.#timer.unref?.();
    }
  }

  /** Stops shipping, reports drops one last time (into the spool, shipped after the restart) and closes the spool. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.shipper.stop();
    await this.reportDrops().catch(() => undefined);
    await this.spool.close();
  }

  /** Spools an `agent` event for the drops since the last report, if any; returns it. */
  async reportDrops(): Promise<AuditEventV1 | null> {
    const dropped = this.spool.dropped();
    const event = dropReportEvent(dropDelta(dropped, this.spool.reported()), {
      id: (this.options.newId ?? uuidv7)(),
      now: new Date((this.options.shipper.now ?? Date.now)()),
      bundleRevision: this.options.bundleRevision?.() ?? 0,
    });
    if (event === null) return null;
    await this.spool.append([event]);
    await this.spool.markReported(dropped); // after the append: a crash in between reports twice, never not at all
    return event;
  }

  /** Flat counters for the agent's status document (`auditSpooled`, `auditSpoolDroppedSpoolFullAudit`, ...). */
  counters(): Record<string, number> {
    const { events, bytes, diskBytes } = this.spool.stats();
    const { batches, accepted, duplicates, failures, splits } = this.shipper.counters;
    const dropped = this.spool.dropped();
    const out: Record<string, number> = {
      auditSpooled: events, auditSpooledBytes: bytes, auditSpoolDiskBytes: diskBytes,
      auditShippedBatches: batches, auditShippedAccepted: accepted, auditShippedDuplicates: duplicates, auditShipFailures: failures, auditShipSplits: splits,
    };
    for (const r of DROP_REASONS) out[`auditSpoolDropped${r[0]!.toUpperCase()}${r.slice(1)}`] = dropped[r];
    return out;
  }
}
