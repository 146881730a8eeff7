import { z } from 'zod';
import { collectFindings, digestOfReference, normalizeSeverity, type ParsedReport } from './finding.ts';

const Cvss = z.looseObject({ V3Score: z.number().optional(), V2Score: z.number().optional() });

const Vulnerability = z.looseObject({
  VulnerabilityID: z.string().min(1),
  VendorIDs: z.array(z.string()).optional(),
  PkgName: z.string(),
  InstalledVersion: z.string().default(''),
  FixedVersion: z.string().optional(),
  Severity: z.string().default('UNKNOWN'),
  Title: z.string().optional(),
  CVSS: z.record(z.string(), Cvss).optional(),
});

/** The parts of a Trivy `--format json` report (SchemaVersion 2) that decide compliance. */
export const TrivyReport = z.looseObject({
  SchemaVersion: z.literal(2, 'must be 2 (Trivy JSON schema version 2)'),
  CreatedAt: z.iso.datetime({ offset: true }).optional(),
  Trivy: z.looseObject({ Version: z.string() }).optional(),
  ArtifactName: z.string().optional(),
  ArtifactType: z.string().optional(),
  Metadata: z.looseObject({ RepoDigests: z.array(z.string()).optional(), RepoTags: z.array(z.string()).optional() }).optional(),
  Results: z.array(z.looseObject({ Target: z.string().optional(), Vulnerabilities: z.array(Vulnerability).nullish() })).default([]),
});

/** Highest v3 score any source gives, else highest v2. */
function bestScore(cvss: Record<string, z.infer<typeof Cvss>> | undefined): number | undefined {
  const scores = Object.values(cvss ?? {});
  const v3 = scores.flatMap((s) => (typeof s.V3Score === 'number' ? [s.V3Score] : []));
  const v2 = scores.flatMap((s) => (typeof s.V2Score === 'number' ? [s.V2Score] : []));
  const pick = v3.length > 0 ? v3 : v2;
  return pick.length > 0 ? Math.max(...pick) : undefined;
}

export function fromTrivy(report: z.infer<typeof TrivyReport>, receivedAt: string): ParsedReport {
  const repoDigest = report.Metadata?.RepoDigests?.map(digestOfReference).find((d) => d !== undefined);
  const reference = report.Metadata?.RepoDigests?.[0]?.split('@')[0] ?? report.Metadata?.RepoTags?.[0] ?? (report.ArtifactType === 'container_image' ? report.ArtifactName : undefined);
  const findings = collectFindings(
    report.Results.flatMap((r) =>
      (r.Vulnerabilities ?? []).map((v) => ({
        id: v.VulnerabilityID,
        aliases: v.VendorIDs,
        package: v.PkgName,
        installedVersion: v.InstalledVersion,
        fixedVersion: v.FixedVersion || undefined,
        severity: normalizeSeverity(v.Severity),
        cvss: bestScore(v.CVSS),
        title: v.Title,
      })),
    ),
  );
  return {
    format: 'trivy',
    scanner: { name: 'trivy', version: report.Trivy?.Version ?? 'unknown' },
    scannedAt: report.CreatedAt ?? receivedAt,
    ...(repoDigest ? { digest: repoDigest } : digestOfReference(report.ArtifactName) ? { digest: digestOfReference(report.ArtifactName) } : {}),
    ...(reference ? { reference } : {}),
    findings,
  };
}
