import { z } from 'zod';

/**
 * File Threat Protection on the node (`node.fileThreat` in `config.json`). What to scan and how to act comes from
 * the bundle (policies, profiles and the tenant's settings); this says where things are on this node. Paths relative
 * to the configuration file.
 *
 * @example
 * ```ts
 * const ftp = FileThreatConfig.parse({ signatures: ['signatures/main.ndb'], fullScanSeconds: 3600 });
 * ```
 */
export const FileThreatConfig = z.strictObject({
  /** Signature files (`*.json`, ClamAV `.hdb`, `.hsb`, `.ndb`), as `palisade-agent scan --signatures` reads them; EICAR always. */
  signatures: z.array(z.string().min(1)).max(64).default([]),
  /** Re-read the signature files when one changes (checked every `signatureCheckSeconds`). */
  signatureCheckSeconds: z.int().min(1).max(86_400).default(60),
  /**
   * How a container's filesystem is reached: `proc` (through `/proc/<pid>/root` of one of its processes, found by its
   * container id in `/proc/<pid>/cgroup`; volumes included), or `snapshot` (a runtime path, `{id}` replaced by the
   * container id, e.g. `/run/containerd/io.containerd.runtime.v2.task/k8s.io/{id}/rootfs`: the root filesystem only).
   */
  roots: z.enum(['proc', 'snapshot']).default('proc'),
  procDir: z.string().min(1).default('/proc'),
  snapshotPath: z.string().includes('{id}').optional(),
  /** Every file of every covered container is scanned this often (catches what change notifications missed). */
  fullScanSeconds: z.int().min(1).max(604_800).default(3600),
  /** A changed file is scanned once no change was seen for this long (a file being written is not scanned half done). */
  settleMilliseconds: z.int().min(0).max(60_000).default(500),
  /** Files waiting for a scan; change notifications beyond it are dropped (counted; the container is rescanned soon). */
  queueCapacity: z.int().min(16).max(10_000_000).default(50_000),
  /** inotify watches per container (one per directory); past it, directories are covered by full scans only. */
  maxWatchesPerContainer: z.int().min(0).max(1_000_000).default(20_000),
  /** Container paths never scanned nor watched (virtual filesystems), besides the settings' path exclusions. */
  skipPaths: z.array(z.string().regex(/^\//)).max(100).default(['/proc', '/sys', '/dev']),
  /** Where `disinfect` keeps quarantined copies (created 0700; copies 0600 with a `.json` of metadata). */
  quarantineDir: z.string().min(1).default('/var/lib/palisade/quarantine'),
  /** Scanning threads; default: the number of cores less one (at least one). */
  workers: z.int().min(1).max(256).optional(),
  /** Entries of the "scan only new and modified" cache (file identity → digest → verdict). */
  cacheEntries: z.int().min(0).max(10_000_000).default(200_000),
  /**
   * Files not fully scanned for one reason in one container are reported as the first at once, then one event with
   * the count per this many seconds (0: one event per file). Detections are always one event each.
   */
  notScannedWindowSeconds: z.int().min(0).max(86_400).default(300),
  /** How often the covered containers are worked out again without a pod or bundle change. */
  reconcileSeconds: z.int().min(1).max(3600).default(30),
}).superRefine((c, ctx) => {
  if (c.roots === 'snapshot' && c.snapshotPath === undefined) ctx.addIssue({ code: 'custom', path: ['snapshotPath'], message: 'roots "snapshot" needs snapshotPath (with {id})' });
});
export type FileThreatConfig = z.output<typeof FileThreatConfig>;
