import { readFile, rename } from 'node:fs/promises';
import { writeFileAtomic } from '../node/atomic-write.ts';

/**
 * Why the spool lost an event. `spoolFullAudit`: an incoming audit-mode event found the spool full; `evictedAudit`:
 * a spooled audit-mode event made room for a blocked one; `spoolFullEnforce`: a blocked (or agent) event found the
 * spool full of blocked events; `tooLarge`: one event over the record limit, or refused by the server with 413 on
 * its own; `rejected`: the server refused it as invalid; `corrupt`: its bytes on disk were damaged; `writeFailed`:
 * the disk write failed (the caller saw the error; nothing was taken).
 */
export const DROP_REASONS = ['spoolFullAudit', 'evictedAudit', 'spoolFullEnforce', 'tooLarge', 'rejected', 'corrupt', 'writeFailed'] as const;
export type DropReason = (typeof DROP_REASONS)[number];
export type DropCounts = Record<DropReason, number>;

export const zeroDrops = (): DropCounts => Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as DropCounts;

/**
 * The spool's durable bookkeeping, `cursor.json`, replaced atomically: every sequence number up to `ackedSeq` is done
 * (acknowledged by the server, or dropped); so are those in `evicted` (sorted, disjoint, inclusive ranges above
 * `ackedSeq`). `dropped` counts every drop since the spool was created, `reported` what an `agent` event has already
 * reported.
 */
export interface CursorState {
  ackedSeq: number;
  evicted: Array<[number, number]>;
  dropped: DropCounts;
  reported: DropCounts;
}

export const CURSOR_FILE = 'cursor.json';

/**
 * Reads the cursor; a fresh one when there is none. One that does not parse (it is written atomically, so only disk
 * damage does that) is moved aside and replaced by a fresh one: every spooled event is then sent again (the server
 * counts them as duplicates) and the drop counts restart from zero, rather than the agent refusing to start.
 */
export async function loadCursor(path: string): Promise<CursorState> {
  const fresh = (): CursorState => ({ ackedSeq: 0, evicted: [], dropped: zeroDrops(), reported: zeroDrops() });
  let raw: Partial<CursorState>;
  try {
    raw = JSON.parse(await readFile(path, 'utf8')) as Partial<CursorState>;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return fresh();
    if (!(err instanceof SyntaxError)) throw err;
    await rename(path, `${path}.damaged-${Date.now()}`);
    return fresh();
  }
  const ok = Number.isSafeInteger(raw.ackedSeq) && Array.isArray(raw.evicted);
  return ok ? { ackedSeq: raw.ackedSeq!, evicted: raw.evicted!, dropped: { ...zeroDrops(), ...raw.dropped }, reported: { ...zeroDrops(), ...raw.reported } } : fresh();
}

export function saveCursor(path: string, state: CursorState): Promise<void> {
  return writeFileAtomic(path, JSON.stringify({ version: 1, ...state }) + '\n', 0o600);
}

/** The position of the first range whose start is above `seq` (binary search: ranges are sorted and disjoint). */
function rangeAfter(ranges: ReadonlyArray<[number, number]>, seq: number): number {
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]![0] > seq) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Whether `seq` is done: acknowledged or evicted. */
export function isDone(state: CursorState, seq: number): boolean {
  if (seq <= state.ackedSeq) return true;
  const prev = state.evicted[rangeAfter(state.evicted, seq) - 1];
  return prev !== undefined && seq <= prev[1];
}

/** Marks `seq` evicted, merging adjacent ranges. Evictions come oldest first, so this mostly extends the last range. */
export function addEvicted(state: CursorState, seq: number): void {
  if (seq <= state.ackedSeq) return;
  const ranges = state.evicted;
  const last = ranges.at(-1);
  const at = last === undefined || last[0] <= seq ? ranges.length : rangeAfter(ranges, seq);
  const prev = ranges[at - 1];
  if (prev && seq <= prev[1]) return;
  if (prev && prev[1] === seq - 1) prev[1] = seq;
  else ranges.splice(at, 0, [seq, seq]);
  const merged = ranges[at - 1]?.[1] === seq ? at - 1 : at;
  const next = ranges[merged + 1];
  if (next && next[0] === ranges[merged]![1] + 1) {
    ranges[merged]![1] = next[1];
    ranges.splice(merged + 1, 1);
  }
}

/** Advances `ackedSeq` to `seq` and over evicted ranges that now follow it directly; drops ranges it passed. */
export function advance(state: CursorState, seq: number): void {
  state.ackedSeq = Math.max(state.ackedSeq, seq);
  for (;;) {
    const first = state.evicted[0];
    if (!first || first[0] > state.ackedSeq + 1) break;
    state.ackedSeq = Math.max(state.ackedSeq, first[1]);
    state.evicted.shift();
  }
}

/** The highest sequence number the cursor knows of. */
export const highestSeq = (state: CursorState): number => Math.max(state.ackedSeq, state.evicted.at(-1)?.[1] ?? 0);
