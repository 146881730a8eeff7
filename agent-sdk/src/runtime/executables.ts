import { matchesMask } from '../../../schema/masks.ts';
import type { ExecutableMatcher } from '../../../schema/runtime-profiles.ts';

/**
 * Strings stored character by character: `prefixOf` answers whether one of them starts a path, `suffixOf` (built from
 * reversed strings) whether one ends it. A walk stops at the first character no entry continues with, so a lookup
 * costs the length of the longest entry it follows, whatever the number of entries, and allocates nothing.
 */
class CharTrie {
  /** Per node: its children's characters, their node indices, and whether an entry ends there. */
  readonly #keys: string[] = [''];
  readonly #kids: number[][] = [[]];
  readonly #end: boolean[] = [false];

  get size(): number {
    return this.#keys.length - 1 + (this.#end[0] ? 1 : 0);
  }

  add(text: string, reversed: boolean): void {
    let node = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text[reversed ? text.length - 1 - i : i]!;
      const k = this.#keys[node]!.indexOf(c);
      if (k >= 0) node = this.#kids[node]![k]!;
      else {
        this.#keys[node] += c;
        this.#kids[node]!.push(this.#keys.length);
        node = this.#keys.length;
        this.#keys.push('');
        this.#kids.push([]);
        this.#end.push(false);
      }
    }
    this.#end[node] = true;
  }

  /** Whether an entry is a prefix of `path` (the whole path included). */
  prefixOf(path: string): boolean {
    let node = 0;
    for (let i = 0; ; i++) {
      if (this.#end[node]) return true;
      if (i === path.length) return false;
      const k = this.#keys[node]!.indexOf(path[i]!);
      if (k < 0) return false;
      node = this.#kids[node]![k]!;
    }
  }

  /** Whether an entry is a suffix of `path` that leaves at least its first character before it. */
  suffixOf(path: string): boolean {
    let node = 0;
    for (let i = path.length - 1; ; i--) {
      if (this.#end[node]) return true;
      if (i < 1) return false;
      const k = this.#keys[node]!.indexOf(path[i]!);
      if (k < 0) return false;
      node = this.#kids[node]![k]!;
    }
  }
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
/** Backreferences and named groups change meaning (or fail) once patterns are joined into one: such stay apart. */
const UNJOINABLE = /\\[1-9]|\\k<|\(\?<[^=!]/;

/**
 * A list of executable matchers (path masks, `*` = any run of characters including `/`, and regular expressions),
 * compiled once per bundle revision into the cheapest form each takes: exact paths in a set; `prefix*` masks in a
 * character trie and `/*suffix` masks in a trie of reversed suffixes (one walk each, whatever their number); masks
 * with one `*` inside (`/srv/*\/run`) joined into one anchored regex (a single star cannot backtrack beyond linear);
 * masks with several stars walked by `matchesMask` (linear in mask × path, where a regex could backtrack without
 * bound); the profile's regexes joined into one alternation (JavaScript, Unicode mode; `test`, so a regex is
 * unanchored unless it says `^...$`), apart from those with backreferences or named groups, tested one by one.
 */
export class ExecutableSet {
  readonly exact = new Set<string>();
  readonly prefixes = new CharTrie();
  /** A suffix X comes from the mask `/*X`: the path starts with `/` and ends with X after it. */
  readonly suffixes = new CharTrie();
  /** Masks with one `*` inside, as one regex (code units, like `matchesMask`); `undefined` when there are none. */
  readonly inner: RegExp | undefined;
  /** Masks with several `*`. */
  readonly masks: string[] = [];
  /** The profile's regexes that could be joined, as one; and the others. */
  readonly joined: RegExp | undefined;
  readonly regexes: RegExp[] = [];
  /** The sources, for compiling kernel policies. */
  readonly sources: ExecutableMatcher[];

  constructor(matchers: readonly ExecutableMatcher[]) {
    this.sources = [...matchers];
    const inner: string[] = [];
    const joinable: string[] = [];
    for (const m of matchers) {
      if ('regex' in m) {
        const re = new RegExp(m.regex, 'u'); // throws on an invalid one, as before
        if (UNJOINABLE.test(m.regex)) this.regexes.push(re);
        else joinable.push(`(?:${m.regex})`);
        continue;
      }
      const shape = maskShape(m.path);
      if (shape.kind === 'exact') this.exact.add(shape.text);
      else if (shape.kind === 'prefix') this.prefixes.add(shape.text, false);
      else if (shape.kind === 'suffix') this.suffixes.add(shape.text, true);
      else if (shape.kind === 'inner') inner.push(shape.text.split('*').map(escapeRegex).join('[^]*'));
      else this.masks.push(m.path);
    }
    this.inner = inner.length ? new RegExp(`^(?:${inner.join('|')})$`) : undefined;
    this.joined = joinable.length ? new RegExp(joinable.join('|'), 'u') : undefined;
  }

  get empty(): boolean {
    return this.exact.size + this.prefixes.size + this.suffixes.size + this.masks.length + this.regexes.length === 0 && !this.inner && !this.joined;
  }

  /** Whether the path matches any matcher. */
  has(path: string): boolean {
    if (this.exact.has(path)) return true;
    if (this.prefixes.prefixOf(path)) return true;
    if (path.charCodeAt(0) === 47 && this.suffixes.suffixOf(path)) return true;
    if (this.inner?.test(path)) return true;
    for (const mask of this.masks) if (matchesMask(mask, path)) return true;
    if (this.joined?.test(path)) return true;
    for (const re of this.regexes) if (re.test(path)) return true;
    return false;
  }
}

/**
 * How a mask is matched: `exact`, `prefix` (`/usr/bin/*`), `suffix` (`/*` + X: any absolute path ending in X and
 * longer than it, since masks are absolute paths), `inner` (one `*` elsewhere: `/srv/*\/run`), or `mask` (several
 * stars, walked by `matchesMask`).
 */
export function maskShape(mask: string): { kind: 'exact' | 'prefix' | 'suffix' | 'inner' | 'mask'; text: string } {
  const stars = mask.split('*').length - 1;
  if (stars === 0) return { kind: 'exact', text: mask };
  if (stars === 1 && mask.endsWith('*')) return { kind: 'prefix', text: mask.slice(0, -1) };
  if (stars === 1 && mask.startsWith('/*')) return { kind: 'suffix', text: mask.slice(2) };
  if (stars === 1) return { kind: 'inner', text: mask };
  return { kind: 'mask', text: mask };
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
