import { eq, sql } from 'drizzle-orm';
import type { Context, Hono } from 'hono';
import { FILE_THREAT_PROTECTION_DEFAULTS, FileThreatProtectionSettingsInput } from '../../schema/file-threat-protection.ts';
import { fileThreatProtectionSettings as settings } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { markTenantBundlesStale } from '../bundles/bundle.store.ts';
import { inTenant, type Tx } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';
import { checkIfMatch, etagOf } from '../http/etag.ts';
import { applyMergePatch } from '../objects/merge-patch.ts';

const PATH = '/v1/settings/file-threat-protection';
const MERGE_PATCH = /^application\/(?:merge-patch\+)?json\s*(?:;|$)/i;

/** The tenant's one settings document; until someone saves it, the defaults at version 0. */
async function current(tx: Tx, tenantId: string, lock = false) {
  const query = tx.select().from(settings).where(eq(settings.tenantId, tenantId));
  const [row] = await (lock ? query.for('update') : query);
  return row ?? { tenantId, spec: FILE_THREAT_PROTECTION_DEFAULTS, version: 0, updatedAt: null, updatedBy: null };
}

function respond(c: Context, row: Awaited<ReturnType<typeof current>>) {
  c.header('ETag', etagOf(row.version));
  return c.json({ ...row.spec, updatedAt: row.updatedAt ? new Date(row.updatedAt).toISOString() : null, updatedBy: row.updatedBy });
}

export function registerFileThreatProtectionRoutes(app: Hono<AppEnv>): void {
  app.get(PATH, requireRight('fileThreatProtection.view'), async (c) => {
    const principal = c.get('principal');
    return respond(c, await inTenant(c.get('db'), principal.tenantId, (tx) => current(tx, principal.tenantId)));
  });

  const write = (patch: boolean) => async (c: Context<AppEnv>) => {
    const principal = c.get('principal');
    const body = await readJson(c, patch ? MERGE_PATCH : undefined);
    const row = await inTenant(c.get('db'), principal.tenantId, async (tx) => {
      // Until the first save there is no row to lock; this lock serializes first saves as the row lock does later ones.
      await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${'file-threat-protection:' + principal.tenantId}))`);
      const before = await current(tx, principal.tenantId, true);
      checkIfMatch(c, before.version);
      const spec = await validate(FileThreatProtectionSettingsInput, patch ? applyMergePatch(structuredClone(before.spec), body) : body);
      const values = { tenantId: principal.tenantId, spec, version: before.version + 1, updatedAt: sql`now()`, updatedBy: principal.subject };
      const [saved] = await tx
        .insert(settings)
        .values(values as never)
        .onConflictDoUpdate({ target: settings.tenantId, set: { spec, version: values.version, updatedAt: sql`now()`, updatedBy: principal.subject } })
        .returning();
      await markTenantBundlesStale(tx, principal.tenantId);
      return saved!;
    });
    c.get('changes').tenantChanged(principal.tenantId);
    return respond(c, row);
  };
  app.put(PATH, requireRight('fileThreatProtection.manage'), write(false));
  app.patch(PATH, requireRight('fileThreatProtection.manage'), write(true));
}
