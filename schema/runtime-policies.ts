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

const Exclusion = z.strictObject({
  kind: z.enum(EXCLUSION_KINDS),
  name: z.union([NameMask, ImageUrlTemplate]),
  reason: z.string().max(1024).optional(),
  expiresAt: Timestamp.optional(),
});

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
    registriesAllowed: section({ registries: z.array(RegistryPrefix).max(500).default([]) }, { registries: [] }),
    volumesBlocked: section({ paths: z.array(z.string().min(1).max(4096).regex(/^\//, 'must begin with `/`')).max(500).default([]) }, { paths: [] }),
  })
  .meta({ id: 'RuntimePolicyInput' });
export type RuntimePolicyInput = z.input<typeof RuntimePolicyInput>;
export type RuntimePolicySpec = z.output<typeof RuntimePolicyInput>;

export const RuntimePolicy = RuntimePolicyInput.extend({ ...Metadata.shape, revision: z.int().min(1) }).meta({ id: 'RuntimePolicy' });
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
