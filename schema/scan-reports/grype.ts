import { z } from 'zod';
import { parseDigest } from '../oci.ts';
import { collectFindings, digestOfReference, normalizeSeverity, type ParsedReport } from './finding.ts';

const Cvss = z.looseObject({ version: z.string().optional(), metrics: z.looseObject({ baseScore: z.number().optional() }).optional() });
const Vuln = z.looseObject({ id: z.string().min(1), severity: z.string().optional(), description: z.string().optional(), cvss: z.array(Cvss).nullish() });

const Match = z.looseObject({
  vulnerability: Vuln.extend({ fix: z.looseObject({ versions: z.array(z.string()).nullish(), state: z.string().optional() }).optional() }),
  relatedVulnerabilities: z.array(Vuln).nullish(),
  artifact: z.looseObject({ name: z.string(), version: z.string().default('') }),
});

/** The parts of a `grype -o json` report that decide compliance. */
export const GrypeReport = z.looseObject({
  matches: z.array(Match),
  source: z
    .looseObject({
      type: z.string().optional(),
      target: z.unknown().optional(),
    })
    .optional(),
  descriptor: z.looseObject({ name: z.string(), version: z.string(), timestamp: z.iso.datetime({ offset: true }).optional() }),
});

function bestScore(vulns: Array<z.infer<typeof Vuln>>): number | undefined {
  const all = vulns.flatMap((v) => v.cvss ?? []);
  const v3 = all.filter((c) => c.version?.startsWith('3') || c.version?.startsWith('4')).flatMap((c) => (typeof c.metrics?.baseScore === 'number' ? [c.metrics.baseScore] : []));
  const any = all.flatMap((c) => (typeof c.metrics?.baseScore === 'number' ? [c.metrics.baseScore] : []));
  const pick = v3.length > 0 ? v3 : any;
  return pick.length > 0 ? Math.max(...pick) : undefined;
}

export function fromGrype(report: z.infer<typeof GrypeReport>, receivedAt: string): ParsedReport {
  const target = (report.source?.type === 'image' ? report.source.target : undefined) as { userInput?: unknown; manifestDigest?: unknown; repoDigests?: unknown } | undefined;
  const repoDigests = Array.isArray(target?.repoDigests) ? (target.repoDigests as unknown[]) : [];
  // The digest a user pulls by: a repo digest or the one in the reference scanned; `manifestDigest` is the platform
  // manifest's, which is the same unless the reference named an index.
  const digest = repoDigests.map(digestOfReference).find((d) => d !== undefined) ?? digestOfReference(target?.userInput) ?? (typeof target?.manifestDigest === 'string' ? parseDigest(target.manifestDigest) : undefined);
  const userInput = typeof target?.userInput === 'string' ? target.userInput : undefined;
  const findings = collectFindings(
    report.matches.map((m) => {
      const related = m.relatedVulnerabilities ?? [];
      return {
        id: m.vulnerability.id,
        aliases: related.map((r) => r.id),
        package: m.artifact.name,
        installedVersion: m.artifact.version,
        // "fixed" with versions: the first is the fix for this package line; "not-fixed", "wont-fix", "unknown": none.
        fixedVersion: m.vulnerability.fix?.state === 'fixed' ? (m.vulnerability.fix.versions ?? [])[0] : undefined,
        severity: normalizeSeverity(m.vulnerability.severity),
        cvss: bestScore([m.vulnerability, ...related]),
        title: m.vulnerability.description?.split('\n')[0],
      };
    }),
  );
  return {
    format: 'grype',
    scanner: { name: report.descriptor.name, version: report.descriptor.version },
    scannedAt: report.descriptor.timestamp ?? receivedAt,
    ...(digest ? { digest } : {}),
    ...(userInput ? { reference: userInput.split('@')[0] } : {}),
    findings,
  };
}
