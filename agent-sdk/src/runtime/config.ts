import { z } from 'zod';
import { FileThreatConfig } from '../file-threat/config.ts';

/**
 * The node agent's settings (`node` in `config.json`, read by `palisade-agent node`). Paths are relative to the
 * configuration file.
 *
 * @example
 * ```ts
 * const node = NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: '/var/run/cilium/tetragon/tetragon.log' }] });
 * ```
 */
export const NodeAgentConfig = z.strictObject({
  /** This node's name; defaults to the `NODE_NAME` environment variable (the downward API in the DaemonSet). */
  nodeName: z.string().min(1).max(253).optional(),
  /**
   * Where events come from: files the sensors write one JSON object per line to (Tetragon's `export-filename`, Falco's
   * `file_output` with `json_output`), followed like `tail -F` (rotation and truncation are noticed).
   */
  sensors: z
    .array(z.strictObject({ kind: z.enum(['tetragon', 'falco']), path: z.string().min(1), fromStart: z.boolean().default(false) }))
    .max(8),
  /** `/metrics`, `/healthz` and `/readyz` over plain HTTP. */
  listen: z.string().min(1).default('0.0.0.0'),
  port: z.int().min(0).max(65535).default(9464),
  /** Sensor lines waiting for evaluation; beyond it lines are dropped (counted as `queueFull`). */
  queueCapacity: z.int().min(1).max(10_000_000).default(65_536),
  /** Kill a process from user space when an Enforce-mode exec violation was not refused in the kernel. */
  killDetectOnly: z.boolean().default(true),
  /** Keep Tetragon TracingPolicyNamespaced objects in step with the bundle (needs the Kubernetes API and Tetragon). */
  tetragonPolicies: z.boolean().default(true),
  /** Watch this node's pods in the Kubernetes API (labels, owners, images); without it, only what sensors report. */
  podWatch: z.boolean().default(true),
  /** A kubeconfig file; in-cluster configuration (the service account) when absent. */
  kubeconfig: z.string().min(1).optional(),
  /** Resolve the FQDNs profiles list; refreshed on their TTL within these bounds. */
  dnsMinRefreshSeconds: z.int().min(1).max(3600).default(5),
  dnsMaxRefreshSeconds: z.int().min(1).max(86_400).default(300),
  /** How often the Tetragon policies are reconciled even without a change (drift repair). */
  syncSeconds: z.int().min(5).max(3600).default(60),
  /** File Threat Protection in this node's covered containers (needs `podWatch`: container ids come from the API). */
  fileThreat: FileThreatConfig.optional(),
}).refine((c) => c.sensors.length > 0 || c.fileThreat !== undefined, {
  path: ['sensors'],
  message: 'at least one sensor, unless the node agent only does File Threat Protection (a fileThreat section)',
});
export type NodeAgentConfig = z.output<typeof NodeAgentConfig>;
