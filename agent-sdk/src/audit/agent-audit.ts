import { dirname, join, resolve } from 'node:path';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { BundleClient } from '../bundle/client.ts';
import type { StatusDocument } from '../bundle/status.ts';
import type { AuditQueue } from '../engine/audit-queue.ts';
import type { AgentFiles } from '../node/agent-files.ts';
import { AuditPipeline } from './pipeline.ts';
import { AuditSettings } from './settings.ts';

type Log = (entry: Record<string, unknown>) => void;

/**
 * The audit path of `palisade-agent run`: the spool (`audit.spoolDir`, default `<stateDir>/audit-spool`) and the
 * shipper to the control plane, started at once (a restart resumes from the spool). `attach` drains an in-memory
 * queue (the webhook's) into the spool every `pumpMs`; `record` spools events directly.
 */
export class AgentAudit {
  readonly #sources: Array<AuditQueue<AuditEventV1>> = [];
  #pump: Promise<void> | undefined;
  #stopping = false;

  private constructor(readonly pipeline: AuditPipeline, private readonly log: Log, private readonly pumpMs: number) {}

  static async start(configFile: string, files: AgentFiles, client: BundleClient, log: Log, pumpMs = 100): Promise<AgentAudit> {
    const s = AuditSettings.parse(files.config.audit ?? {});
    const spoolDir = s.spoolDir ? resolve(dirname(resolve(configFile)), s.spoolDir) : join(files.stateDir, 'audit-spool');
    const pipeline = await AuditPipeline.open({
      spoolDir,
      spool: { maxEvents: s.maxSpoolEvents, maxBytes: s.maxSpoolBytes, segmentBytes: s.segmentBytes },
      shipper: {
        url: files.config.url, credential: files.credential, batchEvents: s.batchEvents, batchBytes: s.batchBytes, batchesInFlight: s.batchesInFlight, maxWaitMs: s.batchMaxWaitMs,
        gzip: s.gzip, timeoutMs: s.uploadTimeoutMs,
        onUpload: (outcome, events) => {
          if (outcome.kind === 'retry') log({ event: 'audit_upload_failed', events, code: outcome.error.code, status: outcome.error.status, message: outcome.error.message });
          else if (outcome.kind !== 'acked' || outcome.rejected > 0) log({ event: 'audit_events_refused', events, outcome });
          else log({ event: 'audit_shipped', events, accepted: outcome.accepted, duplicates: outcome.duplicates });
        },
      },
      dropReportMs: s.dropReportSeconds * 1000,
      bundleRevision: () => client.active?.revision ?? 0,
    });
    const { loaded } = pipeline.spool;
    log({ event: 'audit_spool_opened', spoolDir, pending: pipeline.spool.pending().events, tornBytes: loaded.tornBytes, corrupt: loaded.corrupt });
    pipeline.start();
    return new AgentAudit(pipeline, log, pumpMs);
  }

  /** Drains `queue` into the spool from now on. */
  attach(queue: AuditQueue<AuditEventV1>): void {
    this.#sources.push(queue);
    this.#pump ??= this.#run();
  }

  record(events: AuditEventV1[]) {
    return this.pipeline.record(events);
  }

  /** The status document with the audit counters added (`auditSpooled`, `auditSpoolDropped...`, ...). */
  withCounters(status: StatusDocument): StatusDocument {
    return { ...status, counters: { ...status.counters, ...this.pipeline.counters() } };
  }

  /** Spools what the queues still hold, then stops shipping and closes the spool. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#pump;
    await this.#drain();
    await this.pipeline.stop();
  }

  async #run(): Promise<void> {
    while (!this.#stopping) {
      await this.#drain();
      await new Promise((r) => setTimeout(r, this.pumpMs));
    }
  }

  async #drain(): Promise<void> {
    for (const queue of this.#sources) {
      for (let events = queue.take(1000); events.length > 0; events = queue.take(1000)) {
        await this.pipeline.record(events).catch((err: Error) => this.log({ event: 'audit_spool_failed', events: events.length, message: err.message }));
      }
    }
  }
}
