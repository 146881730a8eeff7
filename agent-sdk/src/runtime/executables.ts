import { matchesMask } from '../../../schema/masks.ts';
import type { ExecutableMatcher } from '../../../schema/runtime-profiles.ts';

/**
 * A list of executable matchers (path masks, `*` = any run of characters including `/`, and regular expressions),
 * compiled once per bundle revision into the cheapest form each takes: exact paths in a set, `prefix*` and `*suffix`
 * masks in sets keyed by length (one slice and one lookup per distinct length), other masks walked by `matchesMask`
 * (linear in mask × path), regexes last (JavaScript, Unicode mode; `test`, so a regex is unanchored unless it says
 * `^...$`).
 */
export class ExecutableSet {
  readonly exact = new Set<string>();
  /** Prefix length → prefixes of that length (`/usr/bin/*` is `/usr/bin/` under 9). */
  readonly prefixes = new Map<number, Set<string>>();
  readonly suffixes = new Map<number, Set<string>>();
  /** Masks with a `*` inside, or several. */
  readonly masks: string[] = [];
  readonly regexes: RegExp[] = [];
  /** The sources, for compiling kernel policies. */
  readonly sources: ExecutableMatcher[];

  constructor(matchers: readonly ExecutableMatcher[]) {
    this.sources = [...matchers];
    for (const m of matchers) {
      if ('regex' in m) this.regexes.push(new RegExp(m.regex, 'u'));
      else addMask(this, m.path);
    }
  }

  get empty(): boolean {
    return this.exact.size + this.prefixes.size + this.suffixes.size + this.masks.length + this.regexes.length === 0;
  }

  /** Whether the path matches any matcher. */
  has(path: string): boolean {
    if (this.exact.has(path)) return true;
    for (const [len, set] of this.prefixes) if (path.length >= len && set.has(path.slice(0, len))) return true;
    // A suffix X comes from the mask `/*X`: the path starts with `/` and ends with X after it.
    if (path.charCodeAt(0) === 47) for (const [len, set] of this.suffixes) if (path.length > len && set.has(path.slice(path.length - len))) return true;
    for (const mask of this.masks) if (matchesMask(mask, path)) return true;
    for (const re of this.regexes) if (re.test(path)) return true;
    return false;
  }
}

/**
 * How a mask is matched: `exact`, `prefix` (`/usr/bin/*`), `suffix` (`/*` + X: any absolute path ending in X and
 * longer than it, since masks are absolute paths), or `mask` (anything else, walked by `matchesMask`).
 */
export function maskShape(mask: string): { kind: 'exact' | 'prefix' | 'suffix' | 'mask'; text: string } {
  const stars = mask.split('*').length - 1;
  if (stars === 0) return { kind: 'exact', text: mask };
  if (stars === 1 && mask.endsWith('*')) return { kind: 'prefix', text: mask.slice(0, -1) };
  if (stars === 1 && mask.startsWith('/*')) return { kind: 'suffix', text: mask.slice(2) };
  return { kind: 'mask', text: mask };
}

function addMask(set: ExecutableSet, mask: string): void {
  const shape = maskShape(mask);
  const keyed = (map: Map<number, Set<string>>, text: string) => {
    const bucket = map.get(text.length) ?? new Set<string>();
    bucket.add(text);
    map.set(text.length, bucket);
  };
  if (shape.kind === 'exact') set.exact.add(shape.text);
  else if (shape.kind === 'prefix') keyed(set.prefixes, shape.text);
  else if (shape.kind === 'suffix') keyed(set.suffixes, shape.text);
  else set.masks.push(mask);
}

/**
 * The executables rule of a profile, compiled: whether a binary may run. `blockListed`: the listed may not run;
 * `allowListedOnly`: only the listed may. Exclusions are exempt from the rule in both modes (never blocked).
 */
export class ExecutableRule {
  readonly listed: ExecutableSet;
  readonly exclusions: ExecutableSet;
  /** Decisions per binary path, bounded: the same few binaries run over and over in a container. */
  readonly #memo = new Map<string, boolean>();

  constructor(readonly mode: 'blockListed' | 'allowListedOnly', executables: readonly ExecutableMatcher[], exclusions: readonly ExecutableMatcher[], private readonly memoSize = 4096) {
    this.listed = new ExecutableSet(executables);
    this.exclusions = new ExecutableSet(exclusions);
  }

  /** `true` when the profile forbids running `binary`. */
  violates(binary: string): boolean {
    let verdict = this.#memo.get(binary);
    if (verdict === undefined) {
      verdict = !this.exclusions.has(binary) && (this.mode === 'blockListed' ? this.listed.has(binary) : !this.listed.has(binary));
      if (this.#memo.size >= this.memoSize) this.#memo.clear();
      this.#memo.set(binary, verdict);
    }
    return verdict;
  }
}
