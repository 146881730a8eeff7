import { and, eq, sql } from 'drizzle-orm';
import type { Context, Hono } from 'hono';
import { ImageDigest } from '../../schema/images.ts';
import { parseScanReport, ReportError, SEVERITIES, type ParsedReport, type Severity } from '../../schema/scan-reports/index.ts';
import { images, imageScans } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { markTenantBundlesStale } from '../bundles/bundle.store.ts';
import { inTenant, type Tx } from '../db/db.ts';
import { readJson } from '../http/body.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { UUID_PATTERN } from '../objects/filters.ts';
import { recomputeCompliance } from '../assurance/compliance.store.ts';

export interface ScanRouteDeps {
  now: () => Date;
}

export const SCAN_RESULTS_PATH = /^\/v1\/images\/(?:scan-results|[^/]+\/scan-results)$/;

/** A scanner's clock may run a little ahead of ours; a report dated further ahead is refused. */
const CLOCK_SKEW_MS = 5 * 60_000;

const badParameter = (parameter: string, detail: string) => new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter, detail }] });

function counts(report: ParsedReport): Record<Severity, number> {
  const out = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const f of report.findings) out[f.severity]++;
  return out;
}

function parse(body: unknown, receivedAt: Date): ParsedReport {
  try {
    return parseScanReport(body, receivedAt.toISOString());
  } catch (err) {
    if (err instanceof ReportError) throw new PalisadeError('validation_failed', err.message, { errors: err.errors, cause: err });
    throw err;
  }
}

/** The digest the report is for: the image's or `?digest=`, which must agree with one the report names. */
function digestFor(report: ParsedReport, given: string | undefined, what: string): string {
  if (given && report.digest && report.digest !== given) {
    throw new PalisadeError('validation_failed', 'the scan report is for another image', { errors: [{ pointer: '', detail: `names digest ${report.digest}, not ${what} ${given}` }] });
  }
  const digest = given ?? report.digest;
  if (!digest) throw badParameter('digest', 'the report names no image digest (a scan of an image archive); pass ?digest=sha256:… of the image it scanned');
  return digest;
}

async function store(c: Context<AppEnv>, digest: string, report: ParsedReport, receivedAt: Date) {
  const principal = c.get('principal');
  if (Date.parse(report.scannedAt) > receivedAt.getTime() + CLOCK_SKEW_MS) {
    throw new PalisadeError('validation_failed', 'the scan report is dated in the future', { errors: [{ pointer: '', detail: `scanned at ${report.scannedAt}, after the time it was received` }] });
  }
  const result = await inTenant(c.get('db'), principal.tenantId, async (tx: Tx) => {
    const [previous] = await tx.select({ scannedAt: imageScans.scannedAt }).from(imageScans).where(and(eq(imageScans.tenantId, principal.tenantId), eq(imageScans.digest, digest))).for('update');
    if (previous && Date.parse(previous.scannedAt) > Date.parse(report.scannedAt)) {
      throw new PalisadeError('conflict', `a newer scan of ${digest} (${new Date(previous.scannedAt).toISOString()}) is already stored`);
    }
    const values = {
      format: report.format,
      scannerName: report.scanner.name,
      scannerVersion: report.scanner.version,
      scannedAt: sql`to_timestamp(${Date.parse(report.scannedAt) / 1000})` as unknown as string,
      receivedAt: receivedAt.toISOString(),
      reference: report.reference ?? null,
      counts: counts(report),
      findings: report.findings,
      receivedBy: principal.subject,
    };
    await tx.insert(imageScans).values({ tenantId: principal.tenantId, digest, ...values }).onConflictDoUpdate({ target: [imageScans.tenantId, imageScans.digest], set: values });
    const changed = await recomputeCompliance(tx, principal.tenantId, receivedAt, { digests: [digest] });
    if (changed > 0) await markTenantBundlesStale(tx, principal.tenantId);
    const affected = await tx
      .select({ id: images.id, name: images.name, compliance: images.compliance, complianceReasons: images.complianceReasons })
      .from(images)
      .where(and(eq(images.tenantId, principal.tenantId), sql`${images.spec}->>'digest' = ${digest}`));
    return { changed, affected };
  });
  if (result.changed > 0) c.get('changes').tenantChanged(principal.tenantId);
  return c.json(
    {
      digest,
      format: report.format,
      scanner: report.scanner,
      scannedAt: new Date(Date.parse(report.scannedAt)).toISOString(),
      receivedAt: receivedAt.toISOString(),
      counts: counts(report),
      findings: report.findings.length,
      // Registered images with this digest and their verdict now; empty when none is registered yet (the scan waits).
      images: result.affected,
    },
    201,
  );
}

/**
 * Scan results in: the scanners' own JSON (Trivy SchemaVersion 2, Grype, CycloneDX with vulnerabilities), per digest.
 * The newest scan of a digest replaces the stored one; images with that digest get their compliance recomputed in the
 * same transaction, and the tenant's bundles are marked stale when a verdict changed. Nothing is stored when the
 * report is refused.
 */
export function registerScanResultRoutes(app: Hono<AppEnv>, deps: ScanRouteDeps): void {
  const manage = requireRight('images.manage');
  const view = requireRight('images.view');

  app.post('/v1/images/scan-results', manage, async (c) => {
    const query = c.req.query();
    const unknown = Object.keys(query).filter((k) => k !== 'digest');
    if (unknown.length > 0) throw new PalisadeError('invalid_parameters', 'unknown query parameters', { errors: unknown.map((parameter) => ({ parameter, detail: 'not a parameter; use digest' })) });
    if (query.digest !== undefined && !ImageDigest.safeParse(query.digest).success) throw badParameter('digest', 'must be sha256: followed by 64 lowercase hex characters');
    const receivedAt = deps.now();
    const report = parse(await readJson(c), receivedAt);
    return store(c, digestFor(report, query.digest, '?digest='), report, receivedAt);
  });

  app.post('/v1/images/:id/scan-results', manage, async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const [image] = UUID_PATTERN.test(id)
      ? await inTenant(c.get('db'), principal.tenantId, (tx) => tx.select({ spec: images.spec }).from(images).where(and(eq(images.tenantId, principal.tenantId), eq(images.id, id))))
      : [];
    if (!image) throw notFound(`image ${id}`);
    const receivedAt = deps.now();
    const report = parse(await readJson(c), receivedAt);
    return store(c, digestFor(report, image.spec.digest, 'the image'), report, receivedAt);
  });

  /** The stored findings of an image's digest and why it is (non-)compliant. */
  app.get('/v1/images/:id/scan-results', view, async (c) => {
    const principal = c.get('principal');
    const id = c.req.param('id');
    const found = UUID_PATTERN.test(id)
      ? await inTenant(c.get('db'), principal.tenantId, async (tx) => {
          const [image] = await tx.select().from(images).where(and(eq(images.tenantId, principal.tenantId), eq(images.id, id)));
          if (!image) return undefined;
          const [scan] = await tx.select().from(imageScans).where(and(eq(imageScans.tenantId, principal.tenantId), eq(imageScans.digest, image.spec.digest)));
          return { image, scan };
        })
      : undefined;
    if (!found) throw notFound(`image ${id}`);
    const { image, scan } = found;
    if (!scan) throw notFound(`a scan of image ${id} (${image.spec.digest})`);
    return c.json({
      imageId: image.id,
      digest: scan.digest,
      format: scan.format,
      scanner: { name: scan.scannerName, version: scan.scannerVersion },
      scannedAt: new Date(scan.scannedAt).toISOString(),
      receivedAt: new Date(scan.receivedAt).toISOString(),
      counts: scan.counts,
      compliance: image.compliance,
      complianceReasons: image.complianceReasons,
      ...(image.compliantUntil ? { compliantUntil: new Date(image.compliantUntil).toISOString() } : {}),
      findings: scan.findings,
    });
  });
}
