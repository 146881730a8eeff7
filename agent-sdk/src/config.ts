import { z } from 'zod';
import { AuditSettings } from './audit/settings.ts';
import { NodeAgentConfig } from './runtime/config.ts';

/**
 * The admission webhook's settings (`webhook` in `config.json`). Paths are relative to the configuration file.
 *
 * @example
 * ```ts
 * const webhook = WebhookConfig.parse({ certFile: 'tls.crt', keyFile: 'tls.key' }); // port 8443, fail-closed, ...
 * ```
 */
export const WebhookConfig = z
  .strictObject({
  /** Address to listen on; `0.0.0.0` (all IPv4) by default, `::` for dual stack. */
  listen: z.string().min(1).default('0.0.0.0'),
  port: z.int().min(0).max(65535).default(8443),
  /** PEM certificate (chain) and key; re-read when the files change (a renewed Secret), without a restart. */
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
  /** How often the certificate files are checked for changes. */
  certReloadSeconds: z.number().positive().max(3600).default(10),
  /** Without a valid bundle: deny (`closed`) or allow with a warning (`open`). */
  failurePolicy: z.enum(['closed', 'open']).default('closed'),
  /** How long an expired bundle is still enforced (last known good) before the failure policy applies. */
  expiryGraceSeconds: z.int().min(0).default(3600),
  /** Per request, well under Kubernetes' webhook timeout (`timeoutSeconds`, at most 30 s). */
  requestDeadlineMs: z.int().min(10).max(25_000).default(2000),
  /** Largest AdmissionReview accepted (413 above); the API server's own objects stay under 3 MiB. */
  maxRequestBytes: z.int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Audit events held for shipping; the oldest are dropped (and counted) beyond it. */
  auditQueueCapacity: z.int().min(1).max(1_000_000).default(10_000),
  /**
   * Identical denials of one workload within this many seconds are reported as one event with a count (the first at
   * once, the repeats when the window ends); 0 reports every decision on its own.
   */
  auditAggregateSeconds: z.number().min(0).max(3600).default(10),
  /**
   * PEM CA bundle that signs the API server's admission client certificate (its `AdmissionConfiguration` kubeconfig).
   * `POST /validate` answers only clients presenting a certificate of this CA (401 otherwise); re-read with the
   * serving certificate. Required: whoever reaches the Service could otherwise forge reviews and audit events.
   */
  clientCaFile: z.string().min(1).optional(),
  /**
   * When non-empty, the client certificate's subject CN or a DNS SAN must be one of these (403 otherwise): needed when
   * the CA also signs other clients (kubeadm's cluster CA signs every kubelet and user certificate).
   */
  clientNames: z.array(z.string().min(1).max(253)).max(100).default([]),
  /**
   * Usernames (AdmissionReview `userInfo.username`) whose objects' `ownerReferences` workload exclusions trust; the
   * engine's `DEFAULT_TRUSTED_CONTROLLERS` (kube-controller-manager's controllers) when absent.
   */
  trustedControllers: z.array(z.string().min(1).max(253)).max(100).optional(),
  /** Serve `POST /validate` to anyone who reaches the port. Only for development or a mesh that authenticates. */
  allowUnauthenticated: z.boolean().default(false),
})
  .superRefine((c, ctx) => {
    // Fail closed: unauthenticated admission must be asked for by name, never the result of a forgotten field.
    if (c.clientCaFile === undefined && !c.allowUnauthenticated)
      ctx.addIssue({ code: 'custom', path: ['clientCaFile'], message: 'set clientCaFile (the CA of the API server\'s client certificate), or allowUnauthenticated: true' });
    if (c.clientCaFile === undefined && c.clientNames.length > 0)
      ctx.addIssue({ code: 'custom', path: ['clientNames'], message: 'clientNames needs clientCaFile' });
  });
export type WebhookConfig = z.output<typeof WebhookConfig>;

/**
 * How the agent reaches registries to verify image signatures (`registryAccess` in `config.json`).
 *
 * @example
 * ```ts
 * RegistryAccessConfig.parse({ dockerConfigFile: '/etc/palisade/registry/.dockerconfigjson' });
 * ```
 */
export const RegistryAccessConfig = z.strictObject({
  /** A mounted `.dockerconfigjson` (a `kubernetes.io/dockerconfigjson` Secret) with credentials per registry host. */
  dockerConfigFile: z.string().min(1).optional(),
  /** Registry hosts (`host:port`) spoken to over plain HTTP, e.g. an in-cluster registry; all others use HTTPS. */
  plainHttp: z.array(z.string().min(1).max(300)).max(100).default([]),
  maxManifestBytes: z.int().min(1024).max(64 * 1024 * 1024).default(4 * 1024 * 1024),
  maxBlobBytes: z.int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
  /** Verified results are reused this long; unsigned or wrongly signed ones `negativeTtlSeconds`; a tag's digest `tagTtlSeconds`. */
  positiveTtlSeconds: z.int().min(0).max(86_400).default(600),
  negativeTtlSeconds: z.int().min(0).max(86_400).default(60),
  tagTtlSeconds: z.int().min(0).max(3600).default(30),
  maxCacheEntries: z.int().min(1).max(1_000_000).default(10_000),
});
export type RegistryAccessConfig = z.output<typeof RegistryAccessConfig>;

/**
 * The agent's configuration file (`config.json`), written by `palisade-agent enroll`. Relative paths are resolved
 * against the directory of the configuration file, so the set of files can be moved (or mounted) together.
 *
 * @example
 * ```ts
 * const config = AgentConfig.parse(JSON.parse(text));
 * ```
 */
export const AgentConfig = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  clusterId: z.string().min(1),
  tenantId: z.uuid(),
  issuer: z.string().min(1),
  credentialFile: z.string().min(1),
  trustFile: z.string().min(1),
  stateDir: z.string().min(1),
  /** Serve the admission webhook from `palisade-agent run`; absent, the agent only keeps the bundle current. */
  webhook: WebhookConfig.optional(),
  /** The audit spool and shipper (see `audit/settings.ts`); defaults when absent. */
  audit: AuditSettings.optional(),
  /** Registry access for signature verification; anonymous HTTPS with default limits when absent. */
  registryAccess: RegistryAccessConfig.optional(),
  /** The node agent (`palisade-agent node`): sensors, enforcement, Kubernetes access (see `runtime/config.ts`). */
  node: NodeAgentConfig.optional(),
});
export type AgentConfig = z.output<typeof AgentConfig>;
