import type { AssurancePolicySpec, ComplianceReason } from '../../schema/assurance-policies.ts';
import type { Compliance } from '../../schema/images.ts';
import { SEVERITY_RANK, type Finding, type Severity } from '../../schema/scan-reports/index.ts';
import type { ScopeInput } from '../../schema/scopes.ts';

export interface PolicyForDecision {
  id: string;
  spec: AssurancePolicySpec;
}

export interface ScanForDecision {
  scannedAt: string;
  findings: Finding[];
}

export interface Decision {
  compliance: Compliance;
  reasons: ComplianceReason[];
  /**
   * When a `compliant` verdict stops holding without any change (the scan reaches its maximum age, or an allow-list
   * entry that hides a violation expires). The hourly job recomputes images past it, and bundles carry it so that
   * an agent treats the image as non-compliant from then on even before a new bundle arrives.
   */
  compliantUntil?: string;
}

const LISTED = 50;
const DAY_MS = 86_400_000;

/** `unknown` is judged as critical by a severity limit: a finding we cannot rank is not waved through. */
const rank = (s: Severity) => (s === 'unknown' ? SEVERITY_RANK.critical : SEVERITY_RANK[s]);

const idsOf = (f: Finding) => [f.id.toUpperCase(), ...(f.aliases ?? []).map((a) => a.toUpperCase())];

/** Whether a scope selects an image's repository (`registry/path`): global, or a registry resource that prefixes it. */
export function scopeSelectsImage(scope: { global: boolean; spec: ScopeInput }, repository: string): boolean {
  if (scope.global) return true;
  return scope.spec.resources.some((r) => r.type === 'registry' && (repository === r.registry || repository.startsWith(`${r.registry}/`)));
}

function reason(policy: PolicyForDecision, rule: ComplianceReason['rule'], hits: Finding[], detail: string): ComplianceReason {
  return {
    policyId: policy.id,
    policyName: policy.spec.name,
    rule,
    cves: hits.slice(0, LISTED).map((f) => ({ id: f.id, package: f.package, severity: f.severity, ...(f.cvss !== undefined ? { cvss: f.cvss } : {}), ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}) })),
    count: hits.length,
    detail,
  };
}

/** The rules (other than scan age) a finding breaks under one policy, ignoring the allow list. */
function broken(policy: AssurancePolicySpec, f: Finding, blocked: Set<string>): Array<ComplianceReason['rule']> {
  const out: Array<ComplianceReason['rule']> = [];
  if (idsOf(f).some((id) => blocked.has(id))) out.push('blockedCves');
  const counts = !policy.onlyFixable || f.fixedVersion !== undefined;
  if (counts && policy.maxSeverity !== undefined && rank(f.severity) > SEVERITY_RANK[policy.maxSeverity]) out.push('maxSeverity');
  if (counts && policy.maxCvss !== undefined && f.cvss !== undefined && f.cvss > policy.maxCvss) out.push('maxCvss');
  return out;
}

/**
 * The compliance of one image: `notScanned` without a scan (never non-compliant for lack of one); otherwise
 * `nonCompliant` when any applicable policy's rule is broken, with the reasons (policy, rule, the CVEs); else
 * `compliant`, with the time that verdict lapses when it depends on time. Pure: `now` is an argument.
 *
 * @example
 * decideCompliance(scan, [{ id, spec: { name: 'prod', maxSeverity: 'high', ... } }], new Date())
 * // → { compliance: 'nonCompliant', reasons: [{ rule: 'maxSeverity', cves: [{ id: 'CVE-2019-18224', ... }], ... }] }
 */
export function decideCompliance(scan: ScanForDecision | undefined, policies: PolicyForDecision[], now: Date): Decision {
  if (!scan) return { compliance: 'notScanned', reasons: [] };
  const reasons: ComplianceReason[] = [];
  let until = Infinity;
  for (const policy of policies) {
    const p = policy.spec;
    const blocked = new Set(p.blockedCves.map((b) => b.id));
    const allowed = new Map<string, number>();
    for (const a of p.allowedCves) {
      const expires = Date.parse(a.expiresAt);
      if (expires > now.getTime()) allowed.set(a.id, Math.max(allowed.get(a.id) ?? 0, expires));
    }
    const hits = new Map<ComplianceReason['rule'], Finding[]>();
    for (const f of scan.findings) {
      const rules = broken(p, f, blocked);
      if (rules.length === 0) continue;
      const allowedUntil = Math.max(0, ...idsOf(f).map((id) => allowed.get(id) ?? 0));
      if (allowedUntil > 0) {
        // Hidden by the allow list for now; the verdict lapses when the entry does.
        until = Math.min(until, allowedUntil);
        continue;
      }
      for (const rule of rules) hits.set(rule, [...(hits.get(rule) ?? []), f]);
    }
    if (hits.has('blockedCves')) reasons.push(reason(policy, 'blockedCves', hits.get('blockedCves')!, 'the image has vulnerabilities on the policy\'s block list'));
    if (hits.has('maxSeverity')) reasons.push(reason(policy, 'maxSeverity', hits.get('maxSeverity')!, `the image has ${p.onlyFixable ? 'fixable ' : ''}vulnerabilities above ${p.maxSeverity} severity`));
    if (hits.has('maxCvss')) reasons.push(reason(policy, 'maxCvss', hits.get('maxCvss')!, `the image has ${p.onlyFixable ? 'fixable ' : ''}vulnerabilities with a CVSS score above ${p.maxCvss}`));
    if (p.maxScanAgeDays !== undefined) {
      const deadline = Date.parse(scan.scannedAt) + p.maxScanAgeDays * DAY_MS;
      if (deadline <= now.getTime()) reasons.push(reason(policy, 'maxScanAgeDays', [], `the last scan (${scan.scannedAt}) is older than ${p.maxScanAgeDays} days`));
      else until = Math.min(until, deadline);
    }
  }
  if (reasons.length > 0) return { compliance: 'nonCompliant', reasons };
  return { compliance: 'compliant', reasons: [], ...(Number.isFinite(until) ? { compliantUntil: new Date(until).toISOString() } : {}) };
}

/** One line for the bundle and the agent's message: the first reason, in words. */
export function summarize(reasons: ComplianceReason[]): string | undefined {
  const first = reasons[0];
  if (!first) return undefined;
  const ids = first.cves.slice(0, 3).map((c) => c.id).join(', ');
  const more = first.count > 3 ? ` and ${first.count - 3} more` : '';
  return `${first.detail}${ids ? ` (${ids}${more})` : ''}, assurance policy "${first.policyName}"`.slice(0, 300);
}
