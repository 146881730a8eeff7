/**
 * Wildcard patterns matched in time proportional to pattern × input (a Pike VM without captures), so patterns from
 * tenants and names from workload authors cannot make a match backtrack for seconds.
 */
type Op =
  | { op: 'char'; ch: string }
  | { op: 'any' }
  | { op: 'notSlash' }
  | { op: 'split'; a: number; b: number }
  | { op: 'jmp'; to: number }
  | { op: 'match' };

/** Pieces a pattern is built from. */
export type GlobPiece =
  | { kind: 'literal'; text: string }
  /** Any run of characters without `/` (`*` in a path segment). */
  | { kind: 'segmentStar' }
  /** Any run of characters (`**`, or `*` where `/` means nothing). */
  | { kind: 'anyStar' }
  /** The pieces, or nothing. */
  | { kind: 'optional'; pieces: GlobPiece[] };

function emit(pieces: GlobPiece[], prog: Op[]): void {
  for (const piece of pieces) {
    if (piece.kind === 'literal') for (const ch of piece.text) prog.push({ op: 'char', ch });
    else if (piece.kind === 'optional') {
      const split = prog.push({ op: 'split', a: 0, b: 0 }) - 1;
      emit(piece.pieces, prog);
      prog[split] = { op: 'split', a: split + 1, b: prog.length };
    } else {
      const loop = prog.push({ op: 'split', a: 0, b: 0 }) - 1;
      prog.push({ op: piece.kind === 'anyStar' ? 'any' : 'notSlash' });
      prog.push({ op: 'jmp', to: loop });
      prog[loop] = { op: 'split', a: loop + 1, b: prog.length };
    }
  }
}

export class Glob {
  readonly #prog: Op[] = [];
  constructor(pieces: GlobPiece[]) {
    emit(pieces, this.#prog);
    this.#prog.push({ op: 'match' });
  }

  /** Whether the whole input matches. */
  test(input: string): boolean {
    const prog = this.#prog;
    let current = this.#closure([0]);
    for (const ch of input) {
      const next: number[] = [];
      for (const pc of current) {
        const op = prog[pc]!;
        if ((op.op === 'char' && op.ch === ch) || op.op === 'any' || (op.op === 'notSlash' && ch !== '/')) next.push(pc + 1);
      }
      if (next.length === 0) return false;
      current = this.#closure(next);
    }
    return current.some((pc) => prog[pc]!.op === 'match');
  }

  /** The instructions reachable without reading a character, deduplicated. */
  #closure(starts: number[]): number[] {
    const seen = new Set<number>();
    const out: number[] = [];
    const stack = [...starts].reverse();
    while (stack.length > 0) {
      const pc = stack.pop()!;
      if (seen.has(pc)) continue;
      seen.add(pc);
      const op = this.#prog[pc]!;
      if (op.op === 'jmp') stack.push(op.to);
      else if (op.op === 'split') stack.push(op.b, op.a);
      else out.push(pc);
    }
    return out;
  }
}
