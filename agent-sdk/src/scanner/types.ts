import type { FileThreatProtectionSettings } from '../../../schema/file-threat-protection.ts';

/** Why a scan stopped short. A scan that stopped short is never `clean`. */
export type LimitKind =
  | 'objectSize'
  | 'totalSize'
  | 'depth'
  | 'entries'
  | 'compressionRatio'
  | 'scanTime'
  | 'matchComplexity'
  | 'archiveScanningOff'
  | 'mailScanningOff';

/**
 * The outcome for one file: `path` names the member inside containers that decided it (`["a.zip", "b.tar", "x"]`).
 * Precedence when members differ: infected > limitExceeded > encrypted > error > clean.
 */
export type Verdict =
  | { verdict: 'clean' }
  | { verdict: 'infected'; name: string; path: string[] }
  | { verdict: 'limitExceeded'; kind: LimitKind; path: string[] }
  | { verdict: 'encrypted'; path: string[] }
  | { verdict: 'error'; message: string; path: string[] };

export interface ScanLimits {
  /** Largest object (a file or an unpacked member) scanned, in bytes. */
  maxObjectBytes: number;
  /** Bytes unpacked from one file, all members together. */
  maxTotalBytes: number;
  /** Containers inside containers: the file itself is depth 0. */
  maxDepth: number;
  /** Members across the whole file. */
  maxEntries: number;
  /** A member's unpacked size over its packed size. */
  maxCompressionRatio: number;
  /** Wall-clock time for one file, in milliseconds. */
  maxScanMs: number;
}

export interface ScanOptions {
  limits: ScanLimits;
  /** `off`: archives are not opened (and so not clean); `selfExtractingOnly`: only archives inside executables. */
  archives: 'off' | 'selfExtractingOnly' | 'all';
  mail: boolean;
}

/** Safe limits: ClamAV stops silently at 25 MB members and 17 levels; we stop loudly. */
export const DEFAULT_LIMITS: ScanLimits = {
  maxObjectBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxDepth: 16,
  maxEntries: 10_000,
  maxCompressionRatio: 1000,
  maxScanMs: 120_000,
};

export const DEFAULT_SCAN_OPTIONS: ScanOptions = { limits: DEFAULT_LIMITS, archives: 'all', mail: true };

/**
 * Scan options from the tenant's File Threat Protection settings. "0 means no limit" in the settings means no skip
 * chosen by the user; the memory-safety defaults above still apply (an object past them is `limitExceeded`).
 */
export function scanOptionsFrom(settings: FileThreatProtectionSettings): ScanOptions {
  const mb = settings.skipObjectsLargerThanMb;
  const seconds = settings.skipObjectsScanLongerThanSeconds;
  return {
    limits: {
      ...DEFAULT_LIMITS,
      maxObjectBytes: mb > 0 ? Math.min(mb * 1024 * 1024, DEFAULT_LIMITS.maxObjectBytes) : DEFAULT_LIMITS.maxObjectBytes,
      maxScanMs: seconds > 0 ? seconds * 1000 : DEFAULT_LIMITS.maxScanMs,
    },
    archives: settings.archiveScanning,
    mail: settings.mailScanning,
  };
}

/** Raised by container readers; the scanner turns it into the matching verdict. */
export class ContainerError extends Error {
  constructor(
    readonly code: 'limit' | 'encrypted' | 'corrupt' | 'unsupported',
    message: string,
    readonly limit?: LimitKind,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A member read from a container; an encrypted one has no data to scan. */
export interface Member {
  name: string;
  data: Uint8Array;
  encrypted?: boolean;
}

/** What a container reader may unpack: it checks declared sizes against these before inflating. */
export interface UnpackBudget {
  /** Largest single member. */
  maxMemberBytes: number;
  /** Bytes left for this file's members together. */
  remainingBytes: number;
  maxCompressionRatio: number;
  remainingEntries: number;
}
