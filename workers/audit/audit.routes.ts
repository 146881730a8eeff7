import type { Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../app-env.ts';
import { registerIngestRoutes } from './audit-ingest.routes.ts';
import { registerAuditQueryRoutes } from './audit-query.routes.ts';
import { registerAuditSettingsRoutes } from './audit-settings.routes.ts';
import type { AuditConfig, OnEventsStored } from './audit.types.ts';

export interface AuditRouteDeps {
  /** `authenticateAgent`: ingest takes tenant and cluster from the cluster credential only. */
  agentOnly: MiddlewareHandler<AppEnv>;
  now: () => Date;
  config?: AuditConfig;
  /** Runs in the ingest transaction with the newly stored events (the webhooks outbox). */
  onStored?: OnEventsStored;
}

/**
 * Audit events: agent ingest (`POST /v1/agent/events`), the tenant's queries (`/v1/audit/events`, `/v1/audit/summary`,
 * behind the tenant authentication the app puts on `/v1/audit`) and the retention setting (`/v1/settings/audit`).
 */
export function registerAuditRoutes(app: Hono<AppEnv>, deps: AuditRouteDeps): void {
  registerIngestRoutes(app, deps);
  registerAuditQueryRoutes(app, deps.now);
  registerAuditSettingsRoutes(app);
}
