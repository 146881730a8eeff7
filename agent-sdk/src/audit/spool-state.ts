import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../node/atomic-write.ts';
import { CURSOR_FILE, highestSeq, isDone, loadCursor, saveCursor, type CursorState } from './cursor.ts';
import { decodeRecord, scanSegment } from './record.ts';
import { listSegments, readRange, removeFile, segmentPath, truncateDurably } from './segment-files.ts';
import { LiveIndex, type RecordRef, type SegmentMeta } from './spool-index.ts';

/** What a spool knows in memory: the cursor, the live records and the segments holding them. */
export interface SpoolState {
  dir: string;
  cursorPath: string;
  cursor: CursorState;
  index: LiveIndex;
  segments: Map<number, SegmentMeta>;
  nextSeq: number;
}

/** What opening found: records cut off a torn tail (never taken: not drops) and damaged lines (counted `corrupt`). */
export interface LoadReport {
  tornBytes: number;
  corrupt: number;
}

/**
 * Rebuilds the state from disk: the cursor, then each segment line by line. A torn tail is cut off (so later loads
 * do not mistake it for corruption); damaged lines elsewhere are counted as `corrupt` and compacted away before the
 * count is saved. Segments holding nothing live are deleted.
 */
export async function loadSpool(dir: string, now: number): Promise<SpoolState & LoadReport> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const cursorPath = join(dir, CURSOR_FILE);
  const state: SpoolState = { dir, cursorPath, cursor: await loadCursor(cursorPath), index: new LiveIndex(), segments: new Map(), nextSeq: 0 };
  let maxSeq = highestSeq(state.cursor);
  const report: LoadReport = { tornBytes: 0, corrupt: 0 };
  for (const id of await listSegments(dir)) {
    const path = segmentPath(dir, id);
    const bytes = await readFile(path);
    const { lines, tornAt } = scanSegment(bytes);
    if (tornAt < bytes.length) {
      report.tornBytes += bytes.length - tornAt;
      await truncateDurably(path, tornAt);
    }
    const meta: SegmentMeta = { id, path, size: tornAt, live: 0, deadBytes: 0 };
    let corrupt = 0;
    for (const { offset, length, record } of lines) {
      if (record === null) corrupt++;
      else maxSeq = Math.max(maxSeq, record.seq);
      if (record === null || isDone(state.cursor, record.seq)) meta.deadBytes += length;
      else {
        state.index.add({ seq: record.seq, segment: id, offset, length, cls: record.cls, at: now });
        meta.live++;
      }
    }
    state.segments.set(id, meta);
    if (corrupt > 0 && meta.live > 0) await compactSegment(state, meta);
    report.corrupt += corrupt;
  }
  state.nextSeq = maxSeq + 1;
  if (report.corrupt > 0) {
    state.cursor.dropped.corrupt += report.corrupt;
    await saveCursor(cursorPath, state.cursor);
  }
  await deleteDeadSegments(state);
  return Object.assign(state, report);
}

/** Rewrites a segment with its live records only (atomically), reclaiming the space of done and damaged ones. */
export async function compactSegment(state: SpoolState, meta: SegmentMeta): Promise<void> {
  const refs = state.index.inSegment(meta.id).filter((r) => !r.evicted);
  const old = await readFile(meta.path);
  const parts = refs.map((r) => old.subarray(r.offset, r.offset + r.length));
  await writeFileAtomic(meta.path, Buffer.concat(parts), 0o600);
  let offset = 0;
  for (const ref of refs) {
    ref.offset = offset;
    offset += ref.length;
  }
  meta.size = offset;
  meta.deadBytes = 0;
}

/** Deletes the segments with nothing live (the cursor saying so must be durable first). */
export async function deleteDeadSegments(state: SpoolState): Promise<void> {
  for (const meta of [...state.segments.values()]) {
    if (meta.live > 0) continue;
    await removeFile(meta.path);
    state.segments.delete(meta.id);
  }
}

/** The JSON texts of `refs` (in order, one read per run of records in the same segment); damaged ones are counted. */
export async function readRecords(state: SpoolState, refs: readonly RecordRef[]): Promise<{ lines: string[]; corrupt: number }> {
  const out = { lines: [] as string[], corrupt: 0 };
  for (let i = 0; i < refs.length; ) {
    let j = i;
    while (j + 1 < refs.length && refs[j + 1]!.segment === refs[i]!.segment) j++;
    const start = refs[i]!.offset;
    const span = await readRange(segmentPath(state.dir, refs[i]!.segment), start, refs[j]!.offset + refs[j]!.length - start);
    for (const ref of refs.slice(i, j + 1)) {
      const record = decodeRecord(span.subarray(ref.offset - start, ref.offset - start + ref.length - 1));
      if (record === null || record.seq !== ref.seq) out.corrupt++;
      else out.lines.push(record.json);
    }
    i = j + 1;
  }
  return out;
}
