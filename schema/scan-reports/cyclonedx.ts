import { z } from 'zod';
import { collectFindings, digestOfReference, normalizeSeverity, SEVERITY_RANK, type ParsedReport, type Severity } from './finding.ts';

const Rating = z.looseObject({ source: z.looseObject({ name: z.string().optional() }).optional(), score: z.number().optional(), severity: z.string().optional(), method: z.string().optional() });
const Component = z.looseObject({ 'bom-ref': z.string().optional(), group: z.string().optional(), name: z.string(), version: z.string().optional(), purl: z.string().optional(), get components() { return z.array(Component).optional(); } });
const Tool = z.looseObject({ name: z.string().optional(), version: z.string().optional() });

/** The parts of a CycloneDX (1.4 to 1.7) JSON BOM with vulnerabilities that decide compliance. */
export const CycloneDxReport = z.looseObject({
  bomFormat: z.literal('CycloneDX'),
  specVersion: z.string(),
  metadata: z
    .looseObject({
      timestamp: z.iso.datetime({ offset: true }).optional(),
      // 1.4: an array of tools; 1.5+: { components: [...] }.
      tools: z.union([z.array(Tool), z.looseObject({ components: z.array(Tool).optional() })]).optional(),
      component: z.looseObject({ name: z.string().optional(), purl: z.string().optional(), properties: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional() }).optional(),
    })
    .optional(),
  components: z.array(Component).optional(),
  vulnerabilities: z.array(
    z.looseObject({
      id: z.string().min(1),
      source: z.looseObject({ name: z.string().optional() }).optional(),
      ratings: z.array(Rating).optional(),
      description: z.string().optional(),
      recommendation: z.string().optional(),
      references: z.array(z.looseObject({ id: z.string().optional() })).optional(),
      affects: z.array(z.looseObject({ ref: z.string(), versions: z.array(z.looseObject({ version: z.string().optional(), status: z.string().optional() })).optional() })).optional(),
    }),
    'a CycloneDX scan result must list its vulnerabilities (a BOM without them is an SBOM, not a scan)',
  ),
});
type Rating = z.infer<typeof Rating>;

const maxSeverity = (ratings: Rating[]): Severity | undefined =>
  ratings.map((r) => normalizeSeverity(r.severity)).filter((s) => s !== 'unknown').sort((a, b) => SEVERITY_RANK[b] - SEVERITY_RANK[a])[0];

/** As Trivy decides: the rating of the vulnerability's own data source, else NVD's, else the highest given. */
function severityOf(ratings: Rating[], source: string | undefined): Severity {
  const own = ratings.filter((r) => r.source?.name === source);
  const nvd = ratings.filter((r) => r.source?.name === 'nvd');
  return maxSeverity(own) ?? maxSeverity(nvd) ?? maxSeverity(ratings) ?? 'unknown';
}

function scoreOf(ratings: Rating[]): number | undefined {
  const scored = ratings.filter((r) => typeof r.score === 'number' && /cvss/i.test(r.method ?? ''));
  const v3 = scored.filter((r) => /cvssv3|cvssv31|cvssv4/i.test(r.method ?? ''));
  const pick = (v3.length > 0 ? v3 : scored).map((r) => r.score!);
  return pick.length > 0 ? Math.max(...pick) : undefined;
}

/** `pkg:oci/name@sha256%3A<hex>?...` → `sha256:<hex>`. */
function digestOfPurl(purl: string | undefined): string | undefined {
  const m = /^pkg:oci\/[^@]+@(sha256(?::|%3A)[a-f0-9]{64})/i.exec(purl ?? '');
  return m ? m[1]!.replace(/%3A/i, ':').toLowerCase() : undefined;
}

/** The package as the scanners name it: Maven `group:artifact`, npm `@scope/name`, else the component's name. */
function packageName(c: z.infer<typeof Component>): string {
  if (!c.group) return c.name;
  return c.purl?.startsWith('pkg:maven/') ? `${c.group}:${c.name}` : `${c.group}/${c.name}`;
}

export function fromCycloneDx(bom: z.infer<typeof CycloneDxReport>, receivedAt: string): ParsedReport {
  const byRef = new Map<string, z.infer<typeof Component>>();
  const walk = (list: Array<z.infer<typeof Component>> | undefined) => {
    for (const c of list ?? []) {
      if (c['bom-ref']) byRef.set(c['bom-ref'], c);
      walk(c.components);
    }
  };
  walk(bom.components);
  const tools = bom.metadata?.tools;
  const tool = (Array.isArray(tools) ? tools : (tools?.components ?? []))[0];
  const component = bom.metadata?.component;
  const repoDigest = component?.properties?.filter((p) => p.name === 'aquasecurity:trivy:RepoDigest').map((p) => digestOfReference(p.value)).find((d) => d !== undefined);
  const digest = repoDigest ?? digestOfPurl(component?.purl);
  const findings = collectFindings(
    bom.vulnerabilities.flatMap((v) =>
      (v.affects ?? []).map((a) => {
        const pkg = byRef.get(a.ref);
        const fixed = a.versions?.find((x) => x.status === 'unaffected')?.version ?? /\bto version ([^\s,]+)/.exec(v.recommendation ?? '')?.[1];
        return {
          id: v.id,
          aliases: (v.references ?? []).flatMap((r) => (r.id ? [r.id] : [])),
          package: pkg ? packageName(pkg) : a.ref,
          installedVersion: pkg?.version ?? a.versions?.find((x) => x.status === 'affected')?.version ?? '',
          fixedVersion: fixed,
          severity: severityOf(v.ratings ?? [], v.source?.name),
          cvss: scoreOf(v.ratings ?? []),
          title: v.description?.split('\n')[0],
        };
      }),
    ),
  );
  return {
    format: 'cyclonedx',
    scanner: { name: tool?.name ?? 'unknown', version: tool?.version ?? 'unknown' },
    scannedAt: bom.metadata?.timestamp ?? receivedAt,
    ...(digest ? { digest } : {}),
    ...(component?.name && component.purl?.startsWith('pkg:oci/') ? { reference: component.name.split('@')[0] } : {}),
    findings,
  };
}
