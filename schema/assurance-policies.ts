import { z } from 'zod';
import { Description, Id, Metadata, Name, Timestamp } from './common.ts';

/** A CVE (or another advisory id a scanner reports, e.g. GHSA-…), compared case-insensitively. */
const VulnerabilityId = z.string().min(3).max(128).regex(/^[A-Za-z][\w.:-]*$/, 'must be a vulnerability id such as CVE-2024-3094 or GHSA-xxxx-xxxx-xxxx').overwrite((s) => s.toUpperCase());

export const ASSURANCE_SEVERITIES = ['negligible', 'low', 'medium', 'high', 'critical'] as const;

export const AssurancePolicyInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    enabled: z.boolean().default(true),
    /**
     * Which images the policy judges: a global scope, or scopes with `registry` resources (an image matches when its
     * repository starts with one). Cluster and namespace resources do not select images.
     */
    scopeIds: z.array(Id).min(1).max(100),
    /** Highest severity allowed; a finding above it makes the image non-compliant. `unknown` counts as critical. */
    maxSeverity: z.enum(ASSURANCE_SEVERITIES).optional(),
    /** Highest CVSS base score allowed; findings without a score are not judged by this rule. */
    maxCvss: z.number().min(0).max(10).optional(),
    /** When true, the severity and CVSS limits count only findings that have a fixed version. */
    onlyFixable: z.boolean().default(false),
    /** Any finding with one of these ids makes the image non-compliant, whatever its severity. */
    blockedCves: z.array(z.strictObject({ id: VulnerabilityId, reason: z.string().max(1024).optional() })).max(1000).default([]),
    /** Findings with these ids are ignored by every other rule of this policy until `expiresAt`. */
    allowedCves: z.array(z.strictObject({ id: VulnerabilityId, reason: z.string().min(1).max(1024), expiresAt: Timestamp })).max(1000).default([]),
    /** A scan older than this many days no longer makes an image compliant. */
    maxScanAgeDays: z.int().min(1).max(3650).optional(),
  })
  .superRefine((p, ctx) => {
    const blocked = new Set(p.blockedCves.map((b) => b.id));
    p.allowedCves.forEach((a, i) => {
      if (blocked.has(a.id)) ctx.addIssue({ code: 'custom', path: ['allowedCves', i, 'id'], message: `${a.id} is also on blockedCves; a vulnerability is either allowed or blocked` });
    });
  })
  .meta({ id: 'AssurancePolicyInput' });
export type AssurancePolicyInput = z.input<typeof AssurancePolicyInput>;
export type AssurancePolicySpec = z.output<typeof AssurancePolicyInput>;

export const AssurancePolicy = z
  .object({ ...AssurancePolicyInput.shape, ...Metadata.shape })
  .meta({ id: 'AssurancePolicy' });

/** Rules an image can fail, as reasons name them. */
export const ASSURANCE_RULES = ['maxSeverity', 'maxCvss', 'blockedCves', 'maxScanAgeDays'] as const;
export type AssuranceRule = (typeof ASSURANCE_RULES)[number];

export const ComplianceReason = z.object({
  policyId: z.uuid(),
  policyName: z.string(),
  rule: z.enum(ASSURANCE_RULES),
  /** The vulnerabilities that broke the rule (at most 50 listed; `count` says how many). */
  cves: z.array(z.object({ id: z.string(), package: z.string(), severity: z.string(), cvss: z.number().optional(), fixedVersion: z.string().optional() })),
  count: z.int(),
  detail: z.string(),
});
export type ComplianceReason = z.infer<typeof ComplianceReason>;
