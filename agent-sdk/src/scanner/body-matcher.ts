import { isFixed, parsePattern, byteMatches, type Gap, type Part } from '../../../schema/file-signature-pattern.ts';
import { parseOffset, type BodySignature, type Offset, type SignatureTarget } from '../../../schema/file-signatures.ts';

/**
 * Multi-pattern matcher for body signatures, compiled once per signature set.
 *
 * Each floating signature (offset `*`) gets an anchor: up to 4 consecutive fixed bytes chosen to be rare. The scan
 * walks the buffer once; a 64 Ki-entry table over the two bytes at each position says whether any anchor starts
 * there, and only then are that pair's candidates verified (anchor tail, anchor part, the parts before and after with
 * their gaps). npm's Aho-Corasick packages were 5-50x slower on bytes; this keeps the per-byte work to one load, one
 * shift and one table read. Signatures at a fixed offset (`n`, `n,m`, `EOF-n`) are checked only where they may start.
 */

interface CompiledSignature {
  name: string;
  target: SignatureTarget;
  offset: Offset;
  parts: Part[];
  gaps: Gap[];
}

interface Candidate {
  sig: CompiledSignature;
  part: number;
  /** Where the anchor begins within its part. */
  at: number;
  /** The anchor's bytes after the first two (checked before the full part). */
  tail: number[];
}

/** Thrown when verifying candidates needs more steps than the budget: the caller must not call the buffer clean. */
export class MatchBudgetExceeded extends Error {
  constructor() {
    super('pattern matching exceeded its step budget');
  }
}

const COMMON_BYTES = new Set([0x00, 0xff, 0x20, 0x90, 0xcc, 0x0a, 0x0d]);

function chooseAnchor(parts: Part[]): { part: number; at: number; length: number } {
  let best = { part: -1, at: 0, length: 0, score: -1 };
  parts.forEach((part, p) => {
    for (let at = 0; at + 2 <= part.length; at++) {
      let length = 0;
      while (length < 4 && at + length < part.length && isFixed(part[at + length]!)) length++;
      if (length < 2) continue;
      let score = length * 10;
      for (let k = 0; k < length; k++) if (!COMMON_BYTES.has(part[at + k]!.value)) score += 3;
      if (score > best.score) best = { part: p, at, length, score };
    }
  });
  return best;
}

export class BodyMatcher {
  readonly #floating: Candidate[][] = [];
  readonly #has = new Uint8Array(65536);
  readonly #fixed: CompiledSignature[] = [];
  readonly size: number;

  constructor(signatures: readonly BodySignature[]) {
    const buckets = new Map<number, Candidate[]>();
    for (const s of signatures) {
      const { parts, gaps } = parsePattern(s.pattern);
      const sig: CompiledSignature = { name: s.name, target: s.target, offset: parseOffset(s.offset), parts, gaps };
      if (!sig.offset.anywhere) {
        this.#fixed.push(sig);
        continue;
      }
      const anchor = chooseAnchor(parts);
      const bytes = parts[anchor.part]!.slice(anchor.at, anchor.at + anchor.length).map((b) => b.value);
      const key = bytes[0]! | (bytes[1]! << 8);
      const list = buckets.get(key) ?? [];
      list.push({ sig, part: anchor.part, at: anchor.at, tail: bytes.slice(2) });
      buckets.set(key, list);
    }
    for (const [key, list] of buckets) {
      this.#has[key] = 1;
      this.#floating[key] = list;
    }
    this.size = signatures.length;
  }

  /**
   * The names of the signatures found in `data` (a file of type `type`), first match per signature. `budget` bounds
   * candidate verification steps; past it, `MatchBudgetExceeded` is thrown.
   */
  scan(data: Uint8Array, type: SignatureTarget, budget = 50_000_000): string[] {
    const found = new Set<string>();
    const steps = { left: budget };
    for (const sig of this.#fixed) {
      if (found.has(sig.name) || !targets(sig, type)) continue;
      const first = sig.offset.fromEnd ? data.length - sig.offset.start : sig.offset.start;
      const last = sig.offset.fromEnd ? first : sig.offset.end;
      for (let start = Math.max(0, first); start <= last && start < data.length; start++) {
        if (matchPart(sig.parts[0]!, data, start, steps) && forward(sig, 1, start + sig.parts[0]!.length, data, steps)) {
          found.add(sig.name);
          break;
        }
      }
    }
    const has = this.#has;
    const end = data.length - 1;
    for (let i = 0; i < end; i++) {
      const key = data[i]! | (data[i + 1]! << 8);
      if (has[key] === 0) continue;
      for (const c of this.#floating[key]!) {
        if (found.has(c.sig.name) || !targets(c.sig, type)) continue;
        if (verify(c, data, i, steps)) found.add(c.sig.name);
      }
    }
    return [...found];
  }
}

function targets(sig: CompiledSignature, type: SignatureTarget): boolean {
  return sig.target === 'any' || sig.target === type;
}

function verify(c: Candidate, data: Uint8Array, i: number, steps: { left: number }): boolean {
  for (let k = 0; k < c.tail.length; k++) if (data[i + 2 + k] !== c.tail[k]) return false;
  const start = i - c.at;
  const part = c.sig.parts[c.part]!;
  if (start < 0 || !matchPart(part, data, start, steps)) return false;
  return backward(c.sig, c.part - 1, start, data, steps) && forward(c.sig, c.part + 1, start + part.length, data, steps);
}

function matchPart(part: Part, data: Uint8Array, start: number, steps: { left: number }): boolean {
  if (start < 0 || start + part.length > data.length) return false;
  if ((steps.left -= part.length) < 0) throw new MatchBudgetExceeded();
  for (let k = 0; k < part.length; k++) if (!byteMatches(part[k]!, data[start + k]!)) return false;
  return true;
}

/** Can parts `p..` be placed after position `from`, each within its gap? Tries every placement the gap allows. */
function forward(sig: CompiledSignature, p: number, from: number, data: Uint8Array, steps: { left: number }): boolean {
  if (p >= sig.parts.length) return true;
  const gap = sig.gaps[p - 1]!;
  const part = sig.parts[p]!;
  const last = Math.min(from + gap.max, data.length - part.length);
  for (let s = from + gap.min; s <= last; s++) {
    if (matchPart(part, data, s, steps) && forward(sig, p + 1, s + part.length, data, steps)) return true;
  }
  return false;
}

/** Can parts `..p` be placed before position `to` (where part p+1 starts), each within its gap? */
function backward(sig: CompiledSignature, p: number, to: number, data: Uint8Array, steps: { left: number }): boolean {
  if (p < 0) return true;
  const gap = sig.gaps[p]!;
  const part = sig.parts[p]!;
  const first = Math.max(0, to - part.length - gap.max);
  for (let s = to - part.length - gap.min; s >= first; s--) {
    if (matchPart(part, data, s, steps) && backward(sig, p - 1, s, data, steps)) return true;
  }
  return false;
}
