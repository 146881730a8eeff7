import { z } from 'zod';
import { Timestamp } from '../common.ts';

/** Severities, normalized across scanners (Trivy `LOW|...|UNKNOWN`, Grype `Negligible|...`, CycloneDX `info|none|...`). */
export const SEVERITIES = ['unknown', 'negligible', 'low', 'medium', 'high', 'critical'] as const;
export const Severity = z.enum(SEVERITIES);
export type Severity = z.infer<typeof Severity>;

/** Rank for comparisons; `unknown` ranks as `critical` where a limit is applied (fail closed, see assurance.ts). */
export const SEVERITY_RANK: Record<Severity, number> = { unknown: 0, negligible: 1, low: 2, medium: 3, high: 4, critical: 5 };

export function normalizeSeverity(value: unknown): Severity {
  const v = typeof value === 'string' ? value.trim().toLowerCase() : '';
  if (v === 'moderate') return 'medium';
  if (v === 'info' || v === 'none') return 'negligible';
  return (SEVERITIES as readonly string[]).includes(v) ? (v as Severity) : 'unknown';
}

/** One vulnerability in one package, as stored per image. */
export const Finding = z.object({
  /** CVE-… or the scanner's advisory id (GHSA-…). */
  id: z.string().max(128),
  /** Other ids of the same vulnerability (a GHSA's CVE); allow and block lists match these too. */
  aliases: z.array(z.string().max(128)).max(20).optional(),
  package: z.string().max(512),
  installedVersion: z.string().max(256),
  fixedVersion: z.string().max(256).optional(),
  severity: Severity,
  /** Highest CVSS v3 base score the report gives (v2 when it gives no v3). */
  cvss: z.number().min(0).max(10).optional(),
  title: z.string().max(512).optional(),
});
export type Finding = z.infer<typeof Finding>;

export const SCANNER_FORMATS = ['trivy', 'grype', 'cyclonedx'] as const;
export type ScannerFormat = (typeof SCANNER_FORMATS)[number];

/** What a parsed report says about one image. */
export interface ParsedReport {
  format: ScannerFormat;
  scanner: { name: string; version: string };
  scannedAt: string;
  /** The image's manifest digest when the report names it (RepoDigests, manifestDigest, an oci purl). */
  digest?: string;
  /** The image reference the report names, when it names one. */
  reference?: string;
  findings: Finding[];
}

export const ScanSummary = z.object({
  format: z.enum(SCANNER_FORMATS),
  scanner: z.object({ name: z.string(), version: z.string() }),
  scannedAt: Timestamp,
  receivedAt: Timestamp,
  counts: z.record(Severity, z.int()),
});

/** A problem with a report, with the JSON Pointer into it. */
export class ReportError extends Error {
  constructor(readonly errors: Array<{ pointer: string; detail: string }>, message = 'the scan report is not usable') {
    super(message);
    this.name = 'ReportError';
  }
}

/** The most findings one report may hold; more is refused rather than cut (a partial report would look cleaner than it is). */
export const MAX_FINDINGS = 20_000;

const clip = (s: string | undefined, n: number) => (s === undefined ? undefined : s.length > n ? s.slice(0, n - 1) + '…' : s);

/** Builds a finding, clipping free text to the stored limits; drops duplicates (same id, package and version). */
export function collectFindings(raw: Array<Omit<Finding, 'title'> & { title?: string }>): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of raw) {
    const key = `${f.id}\u0000${f.package}\u0000${f.installedVersion}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const aliases = f.aliases?.filter((a) => a !== f.id).slice(0, 20);
    out.push({
      id: clip(f.id, 128)!,
      ...(aliases && aliases.length > 0 ? { aliases: aliases.map((a) => clip(a, 128)!) } : {}),
      package: clip(f.package, 512)!,
      installedVersion: clip(f.installedVersion, 256)!,
      ...(f.fixedVersion ? { fixedVersion: clip(f.fixedVersion, 256) } : {}),
      severity: f.severity,
      ...(f.cvss !== undefined && Number.isFinite(f.cvss) && f.cvss >= 0 && f.cvss <= 10 ? { cvss: f.cvss } : {}),
      ...(f.title ? { title: clip(f.title, 512) } : {}),
    });
  }
  if (out.length > MAX_FINDINGS) throw new ReportError([{ pointer: '', detail: `holds ${out.length} findings; at most ${MAX_FINDINGS} are accepted` }]);
  return out;
}

/** The `sha256:` digest after `@` in `repo@sha256:…`, or undefined. */
export function digestOfReference(ref: unknown): string | undefined {
  if (typeof ref !== 'string') return undefined;
  const m = /@(sha256:[a-f0-9]{64})$/.exec(ref);
  return m?.[1];
}
