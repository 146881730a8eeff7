import type { Decision, Finding } from '../engine/index.ts';

/** The API server truncates single warnings past 256 characters and ignores those past 4096 in all. */
export const WARNING_MAX_CHARS = 256;
export const WARNINGS_MAX_TOTAL = 4096;

const origin = (f: Finding) => `policy "${f.policy.name}", check ${f.check}`;

/** `container "app": <message>`, or the message alone when it already starts with its subject (`pod sets ...`). */
export function said(f: Finding): string {
  const subject = f.container !== undefined ? `container "${f.container}"` : 'pod';
  return f.message.startsWith(`${subject} `) ? f.message : `${subject}: ${f.message}`;
}

function subject(decision: Decision): string {
  const w = decision.workload;
  return w ? `${w.kind} "${w.name}" in namespace "${w.namespace}"` : 'the object';
}

/** Findings grouped per container in first-seen order (the pod's own last). */
export function grouped(findings: Finding[]): Finding[] {
  const order = new Map<string, Finding[]>();
  for (const f of findings) {
    const key = f.container ?? '\u0000pod';
    const group = order.get(key);
    if (group) group.push(f);
    else order.set(key, [f]);
  }
  const pod = order.get('\u0000pod') ?? [];
  order.delete('\u0000pod');
  return [...[...order.values()].flat(), ...pod];
}

/**
 * The `status.message` of a denial: every Enforce-mode violation, one per line, per container, in plain words.
 *
 * @example
 * ```text
 * Palisade denied Pod "web" in namespace "shop" (bundle revision 12):
 * - container "app": image "quay.io/x/web:1" is from registry quay.io, which is not in the allowed registries (ghcr.io/acme) [policy "prod", check registriesAllowed]
 * - container "app" sets privileged=true [policy "baseline", check limitContainerPrivileges.baseline.privileged]
 * - pod sets hostNetwork=true [policy "baseline", check limitContainerPrivileges.baseline.hostNamespaces]
 * ```
 */
export function denialMessage(decision: Decision): string {
  const lines = grouped(decision.findings.filter((f) => f.mode === 'enforce')).map((f) => `- ${said(f)} [${origin(f)}]`);
  return [`Palisade denied ${subject(decision)} (bundle revision ${decision.bundleRevision}):`, ...lines].join('\n');
}

/**
 * One line per applied policy that enables sections the admission agent does not enforce, so they never pass
 * silently (kubectl prints them as warnings; `evaluate` in its output).
 *
 * @example
 * ```text
 * Palisade: policy "profiles" enables containerRuntimeProfiles, not enforced by this admission agent
 * ```
 */
export function notEnforcedLines(decision: Decision): string[] {
  return (decision.notEnforced ?? []).map((n) => `Palisade: policy "${n.policy.name}" enables ${n.sections.join(', ')}, not enforced by this admission agent`);
}

const clip = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 3)}...`);

/**
 * Audit-mode findings as warnings (kubectl prints each as `Warning: ...`), within the API server's limits: each is
 * cut to 256 characters, and past 4096 in total one last warning says how many were left out.
 */
export function auditWarnings(decision: Decision, extra: string[] = []): string[] {
  const all = [...extra, ...grouped(decision.findings.filter((f) => f.mode === 'audit')).map((f) => `Palisade audit: ${said(f)} [${origin(f)}]`)];
  return limitWarnings(all);
}

/** Cuts warnings to the API server's limits, saying how many were left out. */
export function limitWarnings(all: string[]): string[] {
  const out: string[] = [];
  let total = 0;
  for (const [i, raw] of all.entries()) {
    const w = clip(raw, WARNING_MAX_CHARS);
    const rest = all.length - i - 1;
    const tail = rest > 0 ? 64 : 0; // room for the "left out" line
    if (total + w.length + tail > WARNINGS_MAX_TOTAL) {
      out.push(`Palisade audit: ${all.length - i} more findings not shown`);
      break;
    }
    out.push(w);
    total += w.length;
  }
  return out;
}
