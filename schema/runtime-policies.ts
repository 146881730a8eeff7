import { z } from 'zod';
import { canonicalCapability } from './capabilities.ts';
import { compileImageTemplate } from './image-template.ts';
import { Description, Id, LabelKey, LabelValue, Metadata, Name, NameMask, Timestamp } from './common.ts';
import { RegistryPrefix } from './scopes.ts';

export const PolicyMode = z.enum(['audit', 'enforce']);
export type PolicyMode = z.infer<typeof PolicyMode>;

export const EXCLUSION_KINDS = ['Namespace', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Image'] as const;
export const BEST_PRACTICE_CHECKS = ['imageTagNotLatest', 'imageDigestPinned', 'cpuRequestsSet', 'cpuLimitsSet', 'memoryRequestsSet', 'memoryLimitsSet'] as const;
export const PRIVILEGE_SETTINGS = [
  'privileged', 'hostNetwork', 'hostPID', 'hostIPC', 'hostPorts', 'runAsRoot', 'allowPrivilegeEscalation', 'hostPathVolumes',
  'addedCapabilities', 'unmaskedProcMount', 'unsafeSysctls', 'customSELinuxOptions', 'unconfinedSeccomp', 'unconfinedAppArmor',
  'windowsHostProcess',
] as const;
export type PrivilegeSetting = (typeof PRIVILEGE_SETTINGS)[number];

/** `*` matches within one path segment, `**` across segments; matched on the normalized reference. */
export const ImageUrlTemplate = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^[^\s]+$/, 'must not contain spaces')
  .refine((t) => compileImageTemplate(t) !== undefined, 'must be an image URL template such as ghcr.io/acme/** or nginx:*');

/** Exclusion kinds that name a workload (not `Namespace`, not `Image`): these must say in which namespaces they hold. */
export const WORKLOAD_EXCLUSION_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob'] as const;
const isWorkloadKind = (kind: string) => (WORKLOAD_EXCLUSION_KINDS as readonly string[]).includes(kind);

/**
 * One exclusion. `namespace` (a mask) qualifies workload and image exclusions: a workload's name is chosen by whoever
 * creates it, so a `Deployment` exclusion holds only in the namespaces it names (`*`: all, as before `namespace`
 * existed). It is required when writing a workload exclusion (see `exclusionProblems`); stored documents and bundles
 * from before may lack it, and the agent then applies that exclusion nowhere (fail closed).
 */
const Exclusion = z
  .strictObject({
    kind: z.enum(EXCLUSION_KINDS),
    name: z.union([NameMask, ImageUrlTemplate]),
    namespace: NameMask.optional(),
    reason: z.string().max(1024).optional(),
    expiresAt: Timestamp.optional(),
  })
  .superRefine((e, ctx) => {
    if (e.kind === 'Namespace' && e.namespace !== undefined) ctx.addIssue({ code: 'custom', path: ['namespace'], message: 'a Namespace exclusion names its namespaces in `name`' });
  });
export type Exclusion = z.output<typeof Exclusion>;

/**
 * What a write must fix in a policy's exclusions beyond its shape: workload exclusions without `namespace` (legacy
 * documents are accepted on read, refused on write, so a PATCH names each one to migrate).
 */
export function exclusionProblems(spec: { exclusions: { items: Exclusion[] } }): Array<{ pointer: string; detail: string }> {
  return spec.exclusions.items.flatMap((e, i) =>
    isWorkloadKind(e.kind) && e.namespace === undefined
      ? [{ pointer: `/exclusions/items/${i}/namespace`, detail: `a ${e.kind} exclusion must name its namespace (a mask; "*" for every namespace): a workload's name alone is chosen by whoever creates it` }]
      : [],
  );
}

/** Stored in the kernel's spelling without `CAP_` (`cap_sys_admin` → `SYS_ADMIN`), as Kubernetes compares them. */
const Capability = z
  .string()
  .refine((c) => canonicalCapability(c) !== undefined, 'must be a Linux capability (CAP_ prefix optional) or ALL')
  .overwrite((c) => canonicalCapability(c) ?? c);

const ProfileMapping = z
  .strictObject({
    podLabels: z.record(LabelKey, LabelValue).optional(),
    imageUrlTemplates: z.array(ImageUrlTemplate).min(1).max(100).optional(),
    profileIds: z.array(Id).min(1).max(50),
  })
  .superRefine((m, ctx) => {
    const labels = m.podLabels !== undefined && Object.keys(m.podLabels).length > 0;
    if (labels === (m.imageUrlTemplates !== undefined))
      ctx.addIssue({ code: 'custom', path: ['podLabels'], message: 'select pods by exactly one of podLabels (non-empty) and imageUrlTemplates' });
  });

const VerificationRule = z
  .strictObject({ registryUrlTemplate: ImageUrlTemplate, verify: z.boolean(), validatorId: Id.optional() })
  .superRefine((r, ctx) => {
    if (r.verify && r.validatorId === undefined) ctx.addIssue({ code: 'custom', path: ['validatorId'], message: 'a rule that checks signatures needs a validator' });
  });

/** A section switched off keeps its settings; every section is off unless given. */
/**
 * An allowed registry: a prefix (`ghcr.io/acme`), or a reference to a registry of `/v1/registries` (`{ "registryId" }`),
 * which bundles carry as that registry's prefix at compile time.
 */
export const RegistryReference = z.strictObject({ registryId: Id }).meta({ id: 'RegistryReference' });
export const AllowedRegistry = z.union([RegistryPrefix, RegistryReference]);

const section = <T extends z.ZodRawShape>(shape: T, defaults: z.infer<z.ZodObject<T>>) =>
  z.strictObject({ enabled: z.boolean().default(false), ...shape }).default({ enabled: false, ...defaults } as never);

export const RuntimePolicyInput = z
  .strictObject({
    name: Name,
    description: Description.optional(),
    enabled: z.boolean().default(true),
    mode: PolicyMode,
    scopeIds: z.array(Id).min(1).max(100),
    exclusions: section({ items: z.array(Exclusion).max(1000).default([]) }, { items: [] }),
    bestPracticeCheck: section({ checks: z.array(z.enum(BEST_PRACTICE_CHECKS)).default([]) }, { checks: [] }),
    blockNonCompliantImages: section({}, {}),
    blockUnregisteredImages: section({}, {}),
    capabilitiesBlock: section({ capabilities: z.array(Capability).max(64).default([]) }, { capabilities: [] }),
    containerRuntimeProfiles: section({ mappings: z.array(ProfileMapping).max(200).default([]) }, { mappings: [] }),
    fileThreatProtection: section({}, {}),
    imageContentProtection: section({ rules: z.array(VerificationRule).max(200).default([]) }, { rules: [] }),
    limitContainerPrivileges: section(
      { preset: z.enum(['baseline', 'restricted']).optional(), settings: z.array(z.enum(PRIVILEGE_SETTINGS)).default([]) },
      { settings: [] },
    ),
    registriesAllowed: section({ registries: z.array(AllowedRegistry).max(500).default([]) }, { registries: [] }),
    volumesBlocked: section({ paths: z.array(z.string().min(1).max(4096).regex(/^\//, 'must begin with `/`')).max(500).default([]) }, { paths: [] }),
  })
  .meta({ id: 'RuntimePolicyInput' });
export type RuntimePolicyInput = z.input<typeof RuntimePolicyInput>;
export type RuntimePolicySpec = z.output<typeof RuntimePolicyInput>;

/** Read-only: the clusters whose live agents do not enforce a section the policy enables (see schema/enforcement.ts). */
export const PolicyEnforcement = z.object({
  notEnforcedIn: z.array(z.object({ clusterId: Id, clusterName: z.string(), sections: z.array(z.string()) })),
});
export type PolicyEnforcement = z.output<typeof PolicyEnforcement>;

export const RuntimePolicy = RuntimePolicyInput.extend({ ...Metadata.shape, revision: z.int().min(1), enforcement: PolicyEnforcement.optional() }).meta({ id: 'RuntimePolicy' });
export type RuntimePolicy = z.output<typeof RuntimePolicy>;

export const RuntimePolicyRevision = z
  .object({
    revision: z.int(),
    action: z.enum(['create', 'update', 'delete']),
    changedAt: Timestamp,
    changedBy: z.string(),
    /** JSON Pointers of the fields this revision changed. */
    changes: z.array(z.string()),
    document: RuntimePolicyInput,
  })
  .meta({ id: 'RuntimePolicyRevision' });
export type RuntimePolicyRevision = z.output<typeof RuntimePolicyRevision>;
