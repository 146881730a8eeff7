import type { Severity } from '../../../schema/audit-event.ts';
import type { BundleContentV1, BundlePolicy } from '../../../schema/bundle.ts';
import type { ImageReference } from '../../../schema/image-reference.ts';
import type { EnforceableSection } from '../../../schema/enforcement.ts';
import type { PolicyMode } from '../../../schema/runtime-policies.ts';
import type { ContainerSpec, PodSpec } from './k8s.ts';
import type { Workload, WorkloadRef } from './workload.ts';

export type { Severity };

/** One admission request, reduced to what the engine needs. */
export interface AdmissionInput {
  /** A Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job or CronJob, as JSON. */
  object: unknown;
  /** The request's namespace; defaults to `metadata.namespace`, then `default`. */
  namespace?: string;
  /** The cluster's name; defaults to the bundle's cluster. */
  cluster?: string;
  /** Owners the caller resolved (a Job's CronJob, ...), added to those the object names. Trusted as given. */
  owners?: WorkloadRef[];
  /**
   * What the signature I/O stage found, per image and validator (see `signatureFactKey`). An image a `Check` rule
   * covers but that has no fact here fails `imageContentProtection` (signatures were not checked).
   */
  signatures?: SignatureFacts;
  /**
   * Who sent the object (AdmissionReview `request.userInfo.username`). The object's `ownerReferences` count for
   * exclusions only when this is a trusted controller (`EvaluateOptions.trustedControllers`): anyone else can write
   * any owner into their own pod. Absent (a manifest on disk), they never count.
   */
  requester?: string;
}

/** Why a signature check did not pass. */
export type SignatureFailure =
  | 'unsigned'
  | 'otherKey'
  | 'otherIdentity'
  | 'otherDigest'
  | 'registryUnreachable'
  | 'deadlineExceeded'
  | 'registryError'
  | 'imageNotFound'
  | 'invalidValidator';

/** The outcome of verifying one image against one validator: the I/O stage's fact, the pure check's input. */
export type SignatureFact =
  | { status: 'verified'; digest: string; format: 'legacy' | 'bundle' }
  | { status: 'failed'; digest?: string; reason: SignatureFailure; detail: string };

/** Facts keyed by `signatureFactKey(image, validatorId)`. */
export type SignatureFacts = ReadonlyMap<string, SignatureFact>;

export interface EvaluateOptions {
  /** The time exclusions expire against; the engine reads no clock. */
  now: Date;
  /** Revision of the bundle the content came from (the content does not carry it). */
  bundleRevision: number;
  /** Usernames whose `ownerReferences` are trusted; `DEFAULT_TRUSTED_CONTROLLERS` when absent. */
  trustedControllers?: readonly string[];
}

export interface PolicyRef {
  id: string;
  name: string;
  revision: number;
}

export interface Finding {
  policy: PolicyRef;
  mode: PolicyMode;
  /** `registriesAllowed`, `limitContainerPrivileges.privileged`, `limitContainerPrivileges.restricted.runAsNonRoot`, ... */
  check: string;
  /** Absent for pod-level findings (host namespaces, sysctls, an unmounted volume, ...). */
  container?: string;
  image?: string;
  /** The image digest the finding is about, when known (signature checks resolve tags). */
  digest?: string;
  message: string;
  severity: Severity;
}

export type RuleStatus = 'pass' | 'fail' | 'skip';

/** Per policy, like a policy report: whether it applied, and each enabled section's outcome. */
export interface PolicyResult {
  policy: PolicyRef;
  mode: PolicyMode;
  status: 'applied' | 'skipped';
  /** Why a policy was skipped: `disabled`, `outOfScope`, `excluded` (the exclusion's kind and name follow). */
  reason?: 'disabled' | 'outOfScope' | 'excluded';
  exclusion?: { kind: string; name: string };
  /** Containers an `Image` exclusion took out of this policy. */
  excludedContainers?: string[];
  rules: Array<{ check: string; status: RuleStatus }>;
}

export interface Decision {
  allowed: boolean;
  bundleRevision: number;
  /** Every violation, Audit and Enforce; only Enforce-mode findings deny. */
  findings: Finding[];
  /** Runtime profile ids per container name (containers with none are left out). */
  runtimeProfiles: Record<string, string[]>;
  policies: PolicyResult[];
  /** The workload evaluated; `undefined` when the object was not one (then the decision allows and says so). */
  workload?: WorkloadRef & { namespace: string };
  /** For a denial: the Enforce-mode findings, one line, for the admission response. */
  message?: string;
  /**
   * Sections that applied policies enable but this engine does not enforce at admission (`ADMISSION_SECTIONS`):
   * reported, never passed silently. Absent when there are none.
   */
  notEnforced?: Array<{ policy: PolicyRef; mode: PolicyMode; sections: EnforceableSection[] }>;
  /** Fields of the wrong type (JSON Pointers into the object): the workload was refused without evaluating policies. */
  malformed?: Array<{ pointer: string; message: string }>;
}

export type ContainerType = 'container' | 'initContainer' | 'ephemeralContainer';

/** A container with its image parsed once per evaluation. */
export interface ContainerView {
  name: string;
  type: ContainerType;
  spec: ContainerSpec;
  image: string;
  /** `undefined` when the image is not a valid reference (see `imageError`). */
  ref?: ImageReference;
  imageError?: string;
}

/** What a check sees: the workload, and the containers this policy evaluates (an `Image` exclusion removes some). */
export interface CheckContext {
  bundle: BundleContentV1;
  workload: Workload;
  spec: PodSpec;
  containers: ContainerView[];
  /** Every container of the pod, excluded or not. */
  allContainers: ContainerView[];
  /** The decision's time (EvaluateOptions.now), for verdicts that lapse (an image's `compliantUntil`). */
  now?: Date;
  signatures?: SignatureFacts;
}

/** A violation before the engine stamps policy and mode on it. */
export interface Violation {
  check: string;
  container?: ContainerView;
  message: string;
  severity: Severity;
  digest?: string;
  /** Reported in this mode instead of the policy's: `audit` admits with a warning (a fail-open registry error). */
  mode?: PolicyMode;
}

/** One policy section, one module under `checks/`. */
export interface Check {
  section: string;
  enabled(policy: BundlePolicy): boolean;
  run(ctx: CheckContext, policy: BundlePolicy): Violation[];
}
