import type { Decision, Finding } from '../engine/index.ts';
import { grouped, notEnforcedLines, said } from '../webhook/messages.ts';

/** One object's outcome, as `evaluate --output json` prints it. */
export interface EvaluationResult {
  source: string;
  kind: string;
  namespace: string;
  name: string;
  allowed: boolean;
  findings: Finding[];
  /** Runtime profile ids per container. */
  runtimeProfiles: Record<string, string[]>;
  /** Why it was allowed without evaluation: not a workload, an operation not decided. */
  note?: string;
  /** Sections applied policies enable that admission does not enforce (absent when none). */
  notEnforced?: Decision['notEnforced'];
}

/** `{ "results": [...] }`, findings as the engine reports them (no container or image for pod-level ones). */
export const formatJson = (results: EvaluationResult[]) => JSON.stringify({ results }, null, 2) + '\n';

function columns(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

const findingLine = (f: Finding) =>
  `    ${f.mode === 'enforce' ? 'DENY ' : 'audit'}  ${f.severity.padEnd(8)}  ${said(f)}  [policy "${f.policy.name}" r${f.policy.revision}, ${f.check}]`;

/**
 * A table for people: one row per object with its verdict, its findings indented below (Enforce-mode ones marked
 * DENY), its runtime profiles by name, and a count at the end.
 */
export function formatTable(results: EvaluationResult[], profileNames: Map<string, string>): string {
  const header = ['SOURCE', 'KIND', 'NAMESPACE', 'NAME', 'VERDICT'];
  const rows = results.map((r) => [r.source, r.kind, r.namespace, r.name, `${r.allowed ? 'allowed' : 'DENIED'}${r.note ? ` (${r.note})` : ''}`]);
  const lines = columns([header, ...rows]);
  const out = [lines[0]!];
  results.forEach((r, i) => {
    out.push(lines[i + 1]!);
    for (const mode of ['enforce', 'audit']) for (const f of grouped(r.findings.filter((x) => x.mode === mode))) out.push(findingLine(f));
    const profiles = Object.entries(r.runtimeProfiles).map(([c, ids]) => `${c}=${ids.map((id) => profileNames.get(id) ?? id).join('+')}`);
    if (profiles.length > 0) out.push(`    runtime profiles: ${profiles.join(', ')}`);
    for (const line of notEnforcedLines({ notEnforced: r.notEnforced } as Decision)) out.push(`    NOT ENFORCED  ${line.replace(/^Palisade: /, '')}`);
  });
  const denied = results.filter((r) => !r.allowed).length;
  const audit = results.reduce((n, r) => n + r.findings.filter((f) => f.mode === 'audit').length, 0);
  out.push('', `${results.length} object${results.length === 1 ? '' : 's'}: ${results.length - denied} allowed, ${denied} denied; ${audit} audit finding${audit === 1 ? '' : 's'}`);
  return out.join('\n') + '\n';
}
