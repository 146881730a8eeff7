import type { z } from 'zod';
import { CycloneDxReport, fromCycloneDx } from './cyclonedx.ts';
import { ReportError, type ParsedReport, type ScannerFormat } from './finding.ts';
import { fromGrype, GrypeReport } from './grype.ts';
import { fromTrivy, TrivyReport } from './trivy.ts';

export * from './finding.ts';

/** Which scanner wrote a report, from its top-level members; undefined when none of ours. */
export function detectFormat(body: unknown): ScannerFormat | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const o = body as Record<string, unknown>;
  if ('SchemaVersion' in o) return 'trivy';
  if (o.bomFormat === 'CycloneDX') return 'cyclonedx';
  if ('matches' in o && 'descriptor' in o) return 'grype';
  return undefined;
}

const escape = (t: PropertyKey) => String(t).replaceAll('~', '~0').replaceAll('/', '~1');

function issues(error: z.ZodError): Array<{ pointer: string; detail: string }> {
  return error.issues.slice(0, 20).map((i) => ({ pointer: i.path.map((p) => '/' + escape(p)).join(''), detail: i.message }));
}

/**
 * Parses a scanner's own JSON (Trivy SchemaVersion 2, Grype, CycloneDX with vulnerabilities) into findings. Throws
 * {@link ReportError} naming what is wrong (a JSON Pointer into the report) when it is none of these or is malformed.
 */
export function parseScanReport(body: unknown, receivedAt: string): ParsedReport {
  const format = detectFormat(body);
  if (!format) throw new ReportError([{ pointer: '', detail: 'is not a Trivy JSON (SchemaVersion 2), Grype JSON or CycloneDX report' }], 'unknown scan report format');
  const schema = format === 'trivy' ? TrivyReport : format === 'grype' ? GrypeReport : CycloneDxReport;
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new ReportError(issues(parsed.error), `the ${format} report is malformed`);
  if (format === 'trivy') return fromTrivy(parsed.data as z.infer<typeof TrivyReport>, receivedAt);
  if (format === 'grype') return fromGrype(parsed.data as z.infer<typeof GrypeReport>, receivedAt);
  return fromCycloneDx(parsed.data as z.infer<typeof CycloneDxReport>, receivedAt);
}
