import { z } from 'zod';

/**
 * The audit spool and shipper of `palisade-agent run` (`audit` in `config.json`); every member has a default. The
 * spool directory is relative to the configuration file, `<stateDir>/audit-spool` by default.
 *
 * @example
 * ```ts
 * AuditSettings.parse({ maxSpoolBytes: 256 * 1024 * 1024 }); // the rest defaulted
 * ```
 */
export const AuditSettings = z.strictObject({
  spoolDir: z.string().min(1).optional(),
  /** Bounds of the spool: unacknowledged events and their bytes. When full, audit-mode events are dropped first. */
  maxSpoolEvents: z.int().min(10).max(10_000_000).default(100_000),
  maxSpoolBytes: z.int().min(64 * 1024).max(16 * 1024 ** 3).default(64 * 1024 * 1024),
  segmentBytes: z.int().min(4096).max(256 * 1024 * 1024).default(4 * 1024 * 1024),
  /** A batch goes out when it holds this many events or bytes (the server takes at most 1 000 and 1 MiB) ... */
  batchEvents: z.int().min(1).max(1000).default(500),
  // As large as the server takes: a denial with many findings is ~8 KiB, and each batch is a round trip that waits
  // behind the webhook's own work; under a saturating burst (bench/webhook.bench.ts) 1 MiB batches shipped 1.6x the
  // events 512 KiB ones did. A batch's text is never larger than the sum of its spool records.
  batchBytes: z.int().min(1024).max(1024 * 1024).default(1024 * 1024),
  /** ... or once its oldest event is this old. */
  batchMaxWaitMs: z.int().min(0).max(600_000).default(2000),
  /** Full batches uploaded at once while more wait behind them, acknowledged in spool order (see Shipper). */
  batchesInFlight: z.int().min(1).max(8).default(2),
  gzip: z.boolean().default(true),
  uploadTimeoutMs: z.int().min(1000).max(300_000).default(30_000),
  /** How often drops are reported as an `agent` event (when there were any). */
  dropReportSeconds: z.int().min(1).max(86_400).default(60),
});
export type AuditSettings = z.output<typeof AuditSettings>;
