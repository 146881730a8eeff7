import { MatchBudgetExceeded } from './body-matcher.ts';
import { readMail } from './containers/mail.ts';
import { readSevenZipOrRar } from './containers/seven-zip.ts';
import { bunzip2, gunzip, unxz } from './containers/streams.ts';
import { readTar } from './containers/tar.ts';
import { readZip } from './containers/zip.ts';
import { containerFormat, executableType, selfExtractingPayload, type ContainerFormat } from './formats.ts';
import type { SignatureIndex } from './signature-index.ts';
import { ContainerError, type Member, type ScanOptions, type UnpackBudget, type Verdict } from './types.ts';

export interface Detection {
  name: string;
  /** The file, then each member down to the one that matched. */
  path: string[];
}

export interface ScanResult {
  verdict: Verdict;
  detections: Detection[];
  /** Objects scanned: the file and every member opened. */
  objects: number;
  bytes: number;
}

const RANK: Record<Verdict['verdict'], number> = { clean: 0, error: 1, encrypted: 2, limitExceeded: 3, infected: 4 };

/** The verdict that wins when a file's objects disagree: a detection first, then whatever kept the scan short. */
export function worse(a: Verdict, b: Verdict): Verdict {
  return RANK[b.verdict] > RANK[a.verdict] ? b : a;
}

/**
 * Scans one file's bytes and, recursively, the containers inside it (zip, gzip, bzip2, xz, tar, 7z, RAR, mail) under
 * `options`. Never answers `clean` for an object it did not read in full. `now` is injected so deadlines are testable.
 *
 * @example
 * const index = new SignatureIndex(importClamAv('ndb', text).signatures);
 * const { verdict } = await scanBytes(index, DEFAULT_SCAN_OPTIONS, bytes, 'upload.zip');
 * if (verdict.verdict === 'infected') console.log(verdict.name, verdict.path.join(' > '));
 */
export async function scanBytes(
  index: SignatureIndex,
  options: ScanOptions,
  data: Uint8Array,
  name: string,
  now: () => number = () => performance.now(),
): Promise<ScanResult> {
  const { limits } = options;
  const deadline = now() + limits.maxScanMs;
  const budget: UnpackBudget = {
    maxMemberBytes: limits.maxObjectBytes,
    remainingBytes: limits.maxTotalBytes,
    maxCompressionRatio: limits.maxCompressionRatio,
    remainingEntries: limits.maxEntries,
  };
  const result: ScanResult = { verdict: { verdict: 'clean' }, detections: [], objects: 0, bytes: 0 };

  const walk = async (bytes: Uint8Array, path: string[], depth: number): Promise<Verdict> => {
    if (now() > deadline) return { verdict: 'limitExceeded', kind: 'scanTime', path };
    if (bytes.length > limits.maxObjectBytes) return { verdict: 'limitExceeded', kind: 'objectSize', path };
    result.objects += 1;
    result.bytes += bytes.length;
    let names: string[];
    try {
      names = [...index.hashMatches(bytes), ...index.body.scan(bytes, executableType(bytes))];
    } catch (err) {
      if (err instanceof MatchBudgetExceeded) return { verdict: 'limitExceeded', kind: 'matchComplexity', path };
      throw err;
    }
    if (names.length > 0) {
      for (const n of names) result.detections.push({ name: n, path });
      return { verdict: 'infected', name: names[0]!, path };
    }
    let format = containerFormat(bytes);
    let payload = bytes;
    if (format === 'mail' && !options.mail) return { verdict: 'limitExceeded', kind: 'mailScanningOff', path };
    if (format === undefined && options.archives !== 'off') {
      const sfx = selfExtractingPayload(bytes);
      if (sfx) {
        format = sfx.format;
        payload = bytes.subarray(sfx.offset);
      }
    } else if (format !== undefined && format !== 'mail' && options.archives !== 'all') {
      return { verdict: 'limitExceeded', kind: 'archiveScanningOff', path };
    }
    if (format === undefined) return { verdict: 'clean' };
    if (depth >= limits.maxDepth) return { verdict: 'limitExceeded', kind: 'depth', path };
    let members: Member[];
    try {
      members = await unpack(format, payload, budget, path[path.length - 1] ?? '');
    } catch (err) {
      if (err instanceof ContainerError) {
        if (err.code === 'limit') return { verdict: 'limitExceeded', kind: err.limit ?? 'totalSize', path };
        if (err.code === 'encrypted') return { verdict: 'encrypted', path };
        return { verdict: 'error', message: err.message, path };
      }
      throw err;
    }
    let verdict: Verdict = { verdict: 'clean' };
    for (const member of members) {
      const at = [...path, member.name];
      const v: Verdict = member.encrypted ? { verdict: 'encrypted', path: at } : await walk(member.data, at, depth + 1);
      verdict = worse(verdict, v);
      if (verdict.verdict === 'infected') break;
    }
    return verdict;
  };

  try {
    result.verdict = await walk(data, [name], 0);
  } catch (err) {
    result.verdict = { verdict: 'error', message: err instanceof Error ? err.message : String(err), path: [name] };
  }
  return result;
}

/** A compressed single stream's member is named after its container, less the compressor's extension. */
function streamName(parent: string, ext: RegExp): string {
  const base = parent.split('/').pop() ?? parent;
  return ext.test(base) ? base.replace(ext, '') : `${base}:content`;
}

async function unpack(format: ContainerFormat, data: Uint8Array, budget: UnpackBudget, parent: string): Promise<Member[]> {
  switch (format) {
    case 'zip':
      return readZip(data, budget);
    case 'tar':
      return readTar(data, budget);
    case 'gzip':
      return [{ name: streamName(parent, /\.(gz|tgz)$/i), data: gunzip(data, budget) }];
    case 'bzip2':
      return [{ name: streamName(parent, /\.(bz2|tbz2?)$/i), data: bunzip2(data, budget) }];
    case 'xz':
      return [{ name: streamName(parent, /\.(xz|txz)$/i), data: await unxz(data, budget) }];
    case '7z':
    case 'rar':
      return readSevenZipOrRar(data, budget, format);
    case 'mail':
      return readMail(data, budget);
  }
}
