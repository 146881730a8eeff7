/**
 * The body-signature pattern language: ClamAV's extended hex syntax (the subset we enforce), parsed into parts a
 * matcher can run. Runtime-neutral: the control plane validates uploads with it, the agent compiles it.
 *
 * Syntax: hex bytes (`4d5a`), `??` any byte, `a?` / `?a` a nibble, `(aa|bb|cc)` one of several bytes, and gaps between
 * fixed parts: `*` (any number of bytes), `{n}` (exactly n), `{-n}` (0 to n), `{n-}` (n or more), `{n-m}`.
 */

/** One byte position: it matches `b` when `(b & mask) === value`, or when `set` (256 flags) holds `b`. */
export interface BytePattern {
  mask: number;
  value: number;
  set?: Uint8Array;
}

/** A run of byte positions with no gap inside. */
export type Part = BytePattern[];

/** The gap before a part: between `min` and `max` bytes (`max` Infinity for `*` and `{n-}`). */
export interface Gap {
  min: number;
  max: number;
}

export interface ParsedPattern {
  parts: Part[];
  /** gaps[i] lies between parts[i] and parts[i+1]. */
  gaps: Gap[];
}

export class PatternSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(`${message} at character ${position + 1}`);
  }
}

const HEX = /[0-9a-f]/;
const MAX_PATTERN_CHARS = 8192;

function nibble(c: string): number {
  return parseInt(c, 16);
}

/** Parses a hex pattern; throws `PatternSyntaxError` naming the position of the first problem. */
export function parsePattern(source: string): ParsedPattern {
  const text = source.toLowerCase();
  if (text.length === 0) throw new PatternSyntaxError('empty pattern', 0);
  if (text.length > MAX_PATTERN_CHARS) throw new PatternSyntaxError(`longer than ${MAX_PATTERN_CHARS} characters`, MAX_PATTERN_CHARS);
  const parts: Part[] = [];
  const gaps: Gap[] = [];
  let part: Part = [];
  let i = 0;
  const gap = (g: Gap, at: number) => {
    if (part.length === 0) throw new PatternSyntaxError('a gap must follow bytes', at);
    parts.push(part);
    gaps.push(g);
    part = [];
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '*') {
      gap({ min: 0, max: Infinity }, i);
      i += 1;
    } else if (c === '{') {
      const end = text.indexOf('}', i);
      if (end < 0) throw new PatternSyntaxError('unclosed `{`', i);
      const m = /^(\d*)-?(\d*)$/.exec(text.slice(i + 1, end));
      const body = text.slice(i + 1, end);
      if (m === null || body === '' || body === '-') throw new PatternSyntaxError(`bad gap {${body}}`, i);
      const hasDash = body.includes('-');
      const lo = m[1] === '' ? 0 : Number(m[1]);
      const hi = hasDash ? (m[2] === '' ? Infinity : Number(m[2])) : lo;
      if (hi < lo) throw new PatternSyntaxError(`gap {${body}} ends before it starts`, i);
      gap({ min: lo, max: hi }, i);
      i = end + 1;
    } else if (c === '(') {
      const end = text.indexOf(')', i);
      if (end < 0) throw new PatternSyntaxError('unclosed `(`', i);
      const options = text.slice(i + 1, end).split('|');
      const set = new Uint8Array(256);
      for (const option of options) {
        if (!/^[0-9a-f]{2}$/.test(option)) throw new PatternSyntaxError(`alternatives must be single bytes, not "${option}"`, i);
        set[parseInt(option, 16)] = 1;
      }
      if (options.length < 2) throw new PatternSyntaxError('an alternative needs two or more bytes', i);
      part.push({ mask: 0, value: 0, set });
      i = end + 1;
    } else {
      const hi = text[i + 1];
      if (hi === undefined) throw new PatternSyntaxError('odd number of hex digits', i);
      const a = c;
      const b = hi;
      if ((a !== '?' && !HEX.test(a)) || (b !== '?' && !HEX.test(b))) throw new PatternSyntaxError(`unsupported token "${a}${b}"`, i);
      const mask = (a === '?' ? 0 : 0xf0) | (b === '?' ? 0 : 0x0f);
      const value = (a === '?' ? 0 : nibble(a) << 4) | (b === '?' ? 0 : nibble(b));
      part.push({ mask, value });
      i += 2;
    }
  }
  if (part.length === 0) throw new PatternSyntaxError('a pattern cannot end with a gap', text.length - 1);
  parts.push(part);
  if (!parts.some((p) => longestFixedRun(p) >= 2)) {
    throw new PatternSyntaxError('needs at least two consecutive fixed bytes', 0);
  }
  return { parts, gaps };
}

/** Fixed: every bit of the byte is given. */
export function isFixed(b: BytePattern): boolean {
  return b.set === undefined && b.mask === 0xff;
}

export function longestFixedRun(part: Part): number {
  let best = 0;
  let run = 0;
  for (const b of part) {
    run = isFixed(b) ? run + 1 : 0;
    if (run > best) best = run;
  }
  return best;
}

/** True when byte `b` satisfies the pattern position. */
export function byteMatches(p: BytePattern, b: number): boolean {
  return p.set !== undefined ? p.set[b] === 1 : (b & p.mask) === p.value;
}
