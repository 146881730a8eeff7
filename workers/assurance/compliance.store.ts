import { and, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { AssurancePolicySpec } from '../../schema/assurance-policies.ts';
import type { ImageSpec } from '../../schema/images.ts';
import { assurancePolicies, images, imageScans, scopes } from '../../schema/tables/index.ts';
import type { Tx } from '../db/db.ts';
import { decideCompliance, scopeSelectsImage, type Decision, type PolicyForDecision, type ScanForDecision } from './decide.ts';

/** What compliance needs of a tenant: enabled assurance policies with their scopes resolved. */
export interface AssuranceContext {
  policies: Array<PolicyForDecision & { scopes: Array<{ global: boolean; spec: { name: string; resources: Array<{ type: string; registry?: string }> } }> }>;
}

export async function loadAssuranceContext(tx: Tx, tenantId: string): Promise<AssuranceContext> {
  const rows = await tx.select({ id: assurancePolicies.id, spec: assurancePolicies.spec }).from(assurancePolicies).where(and(eq(assurancePolicies.tenantId, tenantId), eq(assurancePolicies.enabled, true)));
  if (rows.length === 0) return { policies: [] };
  const scopeRows = await tx.select({ id: scopes.id, global: scopes.global, spec: scopes.spec }).from(scopes).where(eq(scopes.tenantId, tenantId));
  const byId = new Map(scopeRows.map((s) => [s.id, s]));
  return { policies: rows.map((p) => ({ id: p.id, spec: p.spec as AssurancePolicySpec, scopes: (p.spec as AssurancePolicySpec).scopeIds.flatMap((id) => byId.get(id) ?? []) })) };
}

/** The policies that judge an image: those with a scope that selects its repository. */
export function policiesFor(ctx: AssuranceContext, repository: string): PolicyForDecision[] {
  return ctx.policies.filter((p) => p.scopes.some((s) => scopeSelectsImage(s as never, repository)));
}

export async function loadScans(tx: Tx, tenantId: string, digests: string[]): Promise<Map<string, ScanForDecision>> {
  if (digests.length === 0) return new Map();
  const rows = await tx
    .select({ digest: imageScans.digest, scannedAt: imageScans.scannedAt, findings: imageScans.findings })
    .from(imageScans)
    .where(and(eq(imageScans.tenantId, tenantId), inArray(imageScans.digest, [...new Set(digests)])));
  return new Map(rows.map((r) => [r.digest, { scannedAt: new Date(r.scannedAt).toISOString(), findings: r.findings }]));
}

/**
 * The decision for one image document. Without a stored scan the image keeps the verdict a client gave it by hand
 * (`notScanned` unless set), so integrations that PATCH `compliance` keep working; a stored scan always decides.
 */
export function decisionFor(spec: ImageSpec, scan: ScanForDecision | undefined, ctx: AssuranceContext, now: Date): Decision & { lastScanAt?: string } {
  if (!scan) return { compliance: spec.compliance, reasons: [], lastScanAt: spec.lastScanAt };
  return { ...decideCompliance(scan, policiesFor(ctx, spec.reference), now), lastScanAt: scan.scannedAt };
}

const iso = (v: string | null | undefined) => (v ? new Date(v).toISOString() : undefined);

/**
 * Recomputes the compliance of the tenant's images (all, or those with the given digests, or those whose verdict
 * lapsed by `now`) and writes the ones that changed. Answers how many changed: the caller marks bundles stale when
 * any did. Runs in the caller's tenant transaction.
 */
export async function recomputeCompliance(tx: Tx, tenantId: string, now: Date, which: { digests?: string[]; lapsed?: boolean } = {}): Promise<number> {
  const where: SQL[] = [eq(images.tenantId, tenantId)];
  if (which.digests) {
    if (which.digests.length === 0) return 0;
    where.push(inArray(sql`${images.spec}->>'digest'`, which.digests));
  }
  if (which.lapsed) where.push(lte(images.compliantUntil, now.toISOString()));
  const rows = await tx
    .select({ id: images.id, spec: images.spec, compliance: images.compliance, reasons: images.complianceReasons, compliantUntil: images.compliantUntil })
    .from(images)
    .where(and(...where))
    .for('update');
  if (rows.length === 0) return 0;
  const ctx = await loadAssuranceContext(tx, tenantId);
  const scans = await loadScans(tx, tenantId, rows.map((r) => r.spec.digest));
  let changed = 0;
  for (const row of rows) {
    const d = decisionFor(row.spec, scans.get(row.spec.digest), ctx, now);
    const same =
      d.compliance === row.compliance &&
      d.compliance === row.spec.compliance &&
      d.lastScanAt === row.spec.lastScanAt &&
      d.compliantUntil === iso(row.compliantUntil) &&
      JSON.stringify(d.reasons) === JSON.stringify(row.reasons);
    if (same) continue;
    changed++;
    const { lastScanAt: _old, ...rest } = row.spec;
    const spec: ImageSpec = { ...rest, compliance: d.compliance, ...(d.lastScanAt ? { lastScanAt: d.lastScanAt } : {}) };
    await tx
      .update(images)
      .set({
        spec,
        compliance: d.compliance,
        lastScanAt: d.lastScanAt ?? null,
        complianceReasons: d.reasons,
        compliantUntil: d.compliantUntil ?? null,
        version: sql`${images.version} + 1`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(images.tenantId, tenantId), eq(images.id, row.id)));
  }
  return changed;
}
