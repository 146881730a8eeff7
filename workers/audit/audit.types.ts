import type { AuditEventV1 } from '../../schema/audit-event.ts';
import type { Tx } from '../db/db.ts';

/** One event as the ingest transaction stored it: the validated event plus what the credential told us. */
export interface StoredAuditEvent {
  tenantId: string;
  clusterId: string;
  /** ISO time the control plane received the batch. */
  receivedAt: string;
  /** The event as stored (its `time` normalized to UTC milliseconds). */
  event: AuditEventV1;
}

/**
 * Extension point of the ingest transaction: runs after the events and rollups are written and before commit, with
 * only the events that were new (not duplicates). Throwing rolls the whole batch back, so the agent retries it.
 * The webhooks outbox hooks in here (`createApp` passes it to `registerAuditRoutes`).
 */
export type OnEventsStored = (tx: Tx, stored: readonly StoredAuditEvent[]) => Promise<void>;

/** Ingest limits; each has a default (see `AUDIT_DEFAULTS`). */
export interface AuditConfig {
  /** Largest batch in bytes after decompression (gzip bombs are cut off here); the body as sent is also held to `maxBodyBytes`. */
  maxBatchBytes?: number;
  /** Most events in one batch. */
  maxBatchEvents?: number;
  /** Per-cluster token bucket, counted in events: refill rate and capacity. Per process (per isolate on Workers). */
  rateLimit?: { eventsPerSecond: number; burst: number };
  /** How far ahead of the server clock an event's `time` may be. */
  maxClockSkewMs?: number;
}

export const AUDIT_DEFAULTS = {
  maxBatchBytes: 1024 * 1024,
  maxBatchEvents: 1000,
  rateLimit: { eventsPerSecond: 1000, burst: 10_000 },
  maxClockSkewMs: 24 * 3600 * 1000,
} satisfies Required<AuditConfig>;
