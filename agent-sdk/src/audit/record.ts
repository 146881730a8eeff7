import { crc32 } from 'node:zlib';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';

/**
 * One spooled event is one line: `CRC SEQ CLASS JSON\n`. CRC is the CRC-32 (8 hex digits) of everything after it up to
 * the newline, SEQ the spool's sequence number (decimal), CLASS `k` (keep: blocked and agent events) or `a` (audit:
 * alerted and allowed events, dropped first when the spool is full), JSON the event (JSON.stringify never writes a
 * raw newline). A crash mid-append leaves a line without its newline or with a wrong CRC at the end of a segment: a
 * torn write, detected and ignored. Valid lines after an invalid one mean corruption instead.
 */
export type RecordClass = 'k' | 'a';

export interface DecodedRecord {
  seq: number;
  cls: RecordClass;
  /** The event's JSON text, as sent upstream (NDJSON). */
  json: string;
}

const NEWLINE = 0x0a;

/** Blocked events and the agent's own events are kept; audit-mode ones (`alerted`, `allowed`) go first. */
export function classOf(event: AuditEventV1): RecordClass {
  return event.verdict === 'blocked' || event.kind === 'agent' ? 'k' : 'a';
}

export function encodeRecord(seq: number, cls: RecordClass, json: string): Buffer {
  const body = Buffer.from(`${seq} ${cls} ${json}`, 'utf8');
  const crc = crc32(body).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from(`${crc} `, 'latin1'), body, Buffer.from([NEWLINE])]);
}

/** Decodes one line without its newline; null when the CRC or the layout is wrong. */
export function decodeRecord(line: Buffer): DecodedRecord | null {
  if (line.length < 14 || line[8] !== 0x20) return null;
  const body = line.subarray(9);
  const expected = Number.parseInt(line.subarray(0, 8).toString('latin1'), 16);
  if (!/^[0-9a-f]{8}$/.test(line.subarray(0, 8).toString('latin1')) || crc32(body) !== expected) return null;
  const text = body.toString('utf8');
  const match = /^(\d{1,15}) ([ka]) /.exec(text);
  if (!match) return null;
  return { seq: Number(match[1]), cls: match[2] as RecordClass, json: text.slice(match[0].length) };
}

export interface ScannedLine {
  offset: number;
  /** Bytes including the newline. */
  length: number;
  record: DecodedRecord | null;
}

/**
 * Splits a segment's bytes into lines. `tornAt` is where the torn tail starts (a final line without its newline, or
 * invalid lines with no valid one after them), or the length when the segment ends cleanly; invalid lines before it
 * are `record: null` (corruption).
 */
export function scanSegment(bytes: Buffer): { lines: ScannedLine[]; tornAt: number } {
  const lines: ScannedLine[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const end = bytes.indexOf(NEWLINE, offset);
    if (end < 0) break;
    lines.push({ offset, length: end + 1 - offset, record: decodeRecord(bytes.subarray(offset, end)) });
    offset = end + 1;
  }
  let keep = lines.length;
  while (keep > 0 && lines[keep - 1]!.record === null) keep--;
  const tornAt = keep < lines.length ? lines[keep]!.offset : offset;
  return { lines: lines.slice(0, keep), tornAt };
}
