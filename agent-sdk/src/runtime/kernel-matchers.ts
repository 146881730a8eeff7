import type { ExecutableMatcher } from '../../../schema/runtime-profiles.ts';
import { maskShape } from './executables.ts';

/** What Tetragon's string operators can say about a path: equal to, starting with, ending with. */
export interface KernelPathSets {
  Equal: string[];
  Prefix: string[];
  Postfix: string[];
}

const META = new Set(['\\', '.', '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '^', '$']);

/** Whether a regex has a `|` outside groups and classes (then no literal prefix holds for all its matches). */
function topLevelAlternation(src: string): boolean {
  let depth = 0;
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') i++;
    else if (inClass) inClass = ch !== ']';
    else if (ch === '[') inClass = true;
    else if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) return true;
  }
  return false;
}

/**
 * The literal text every match of an anchored regex starts with (`^/usr/bin/(a|b)$` → `/usr/bin/`); `''` when there
 * is none (unanchored, a top-level alternation, or a metacharacter at once). A character followed by `*`, `?` or
 * `{` may be absent, so it is left out.
 */
export function regexLiteralPrefix(src: string): string {
  if (!src.startsWith('^') || topLevelAlternation(src)) return '';
  let out = '';
  for (let i = 1; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\\') {
      const next = src[i + 1];
      if (next === undefined || /[A-Za-z0-9]/.test(next)) break; // \d, \w, \b ... are classes, not literals
      out += next;
      i++;
      continue;
    }
    if (META.has(ch)) {
      if (ch === '*' || ch === '?' || ch === '{') out = out.slice(0, -1);
      break;
    }
    out += ch;
  }
  return out;
}

/**
 * Splits matchers into what the kernel can match exactly and what it cannot. With `widen`, the inexpressible ones
 * become a `Prefix` on their literal start (a superset: right for lists the kernel must never be stricter than,
 * allow lists and exclusions); a matcher with no usable prefix (none, or only `/`) makes the whole list inexpressible
 * (`complete: false`). Without `widen` they are simply left to user space (`rest`).
 */
export function kernelPathSets(matchers: readonly ExecutableMatcher[], widen: boolean): { sets: KernelPathSets; rest: ExecutableMatcher[]; complete: boolean } {
  const sets: KernelPathSets = { Equal: [], Prefix: [], Postfix: [] };
  const rest: ExecutableMatcher[] = [];
  let complete = true;
  for (const m of matchers) {
    if ('path' in m) {
      const shape = maskShape(m.path);
      if (shape.kind === 'exact') sets.Equal.push(shape.text);
      else if (shape.kind === 'prefix') sets.Prefix.push(shape.text);
      else if (shape.kind === 'suffix') sets.Postfix.push(shape.text);
      else if (!widen) rest.push(m);
      else {
        const prefix = m.path.slice(0, m.path.indexOf('*'));
        if (prefix.length > 1) (sets.Prefix.push(prefix), rest.push(m));
        else complete = false;
      }
      continue;
    }
    rest.push(m);
    if (!widen) continue;
    const prefix = regexLiteralPrefix(m.regex);
    if (prefix.length > 1 && prefix.startsWith('/')) sets.Prefix.push(prefix);
    else complete = false;
  }
  for (const k of ['Equal', 'Prefix', 'Postfix'] as const) sets[k] = [...new Set(sets[k])].sort();
  return { sets, rest, complete };
}
