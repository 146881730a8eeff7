import { eq, sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { z } from 'zod';
import { tenantSettings } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';

export const AUDIT_SETTINGS_PATH = '/v1/settings/audit';
export const DEFAULT_RETENTION_DAYS = 90;

export const AuditSettingsInput = z
  .strictObject({ auditRetentionDays: z.int().min(1).max(3650).describe('Days raw audit events are kept; rollups (summaries) are kept regardless') })
  .meta({ id: 'AuditSettingsInput' });
export const AuditSettings = z
  .object({ auditRetentionDays: z.int(), updatedAt: z.string().nullable().describe('When last changed; null while the defaults apply') })
  .meta({ id: 'AuditSettings' });

/** `GET/PUT /v1/settings/audit`: the tenant's audit retention (default 90 days), read by the retention job. */
export function registerAuditSettingsRoutes(app: Hono<AppEnv>): void {
  app.get(AUDIT_SETTINGS_PATH, requireRight('audit.view'), async (c) => {
    const { tenantId } = c.get('principal');
    const [row] = await inTenant(c.get('db'), tenantId, (tx) => tx.select().from(tenantSettings).where(eq(tenantSettings.tenantId, tenantId)));
    return c.json({ auditRetentionDays: row?.auditRetentionDays ?? DEFAULT_RETENTION_DAYS, updatedAt: row ? new Date(row.updatedAt).toISOString() : null });
  });

  app.put(AUDIT_SETTINGS_PATH, requireRight('audit.manage'), async (c) => {
    const { tenantId } = c.get('principal');
    const { auditRetentionDays } = await validate(AuditSettingsInput, await readJson(c));
    const [row] = await inTenant(c.get('db'), tenantId, (tx) =>
      tx
        .insert(tenantSettings)
        .values({ tenantId, auditRetentionDays })
        .onConflictDoUpdate({ target: tenantSettings.tenantId, set: { auditRetentionDays, updatedAt: sql`now()` } })
        .returning(),
    );
    return c.json({ auditRetentionDays: row!.auditRetentionDays, updatedAt: new Date(row!.updatedAt).toISOString() });
  });
}
