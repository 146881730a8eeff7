import { list, record, type ObjectMeta, type PodSpec } from './k8s.ts';

export const WORKLOAD_KINDS = ['Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: string;
  name: string;
}

/** What the engine evaluates: a pod, or the pod template of a workload, with the workload's identity. */
export interface Workload {
  kind: WorkloadKind;
  /** `metadata.name`, or `metadata.generateName` when the name is not assigned yet. */
  name: string;
  namespace?: string;
  /** Labels and annotations of the pod (for a workload: of its pod template). */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: PodSpec;
  /**
   * Owners named in `metadata.ownerReferences`, plus the Deployment of a ReplicaSet-owned pod (the ReplicaSet's name
   * minus the pod's `pod-template-hash`), so exclusions of a Deployment also cover its pods.
   */
  owners: WorkloadRef[];
}

/**
 * The kube-controller-manager identities that create pods and workloads for their owners, so that `ownerReferences`
 * in objects they send are Kubernetes' own: the per-controller service accounts (`--use-service-account-credentials`,
 * kubeadm's default) and the controller manager's own user when it runs without them.
 */
export const DEFAULT_TRUSTED_CONTROLLERS: readonly string[] = [
  ...['replicaset-controller', 'deployment-controller', 'daemon-set-controller', 'statefulset-controller', 'job-controller', 'cronjob-controller', 'replication-controller'].map(
    (c) => `system:serviceaccount:kube-system:${c}`,
  ),
  'system:kube-controller-manager',
];

const strings = (value: unknown): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value) ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
};

function podTemplate(kind: WorkloadKind, object: Record<string, unknown>): Record<string, unknown> | undefined {
  if (kind === 'Pod') return object;
  const spec = record(object.spec);
  if (kind === 'CronJob') return record(record(record(spec?.jobTemplate)?.spec)?.template);
  return record(spec?.template);
}

function owners(meta: ObjectMeta, podLabels: Record<string, string>): WorkloadRef[] {
  const out: WorkloadRef[] = [];
  for (const ref of list<Record<string, unknown>>(meta.ownerReferences)) {
    if (typeof ref?.kind !== 'string' || typeof ref.name !== 'string') continue;
    out.push({ kind: ref.kind, name: ref.name });
    const hash = podLabels['pod-template-hash'];
    if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) out.push({ kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) });
  }
  return out;
}

/**
 * The pod spec, kind, name, namespace, labels and annotations of a Pod, Deployment, StatefulSet, DaemonSet,
 * ReplicaSet, ReplicationController, Job or CronJob (`spec.jobTemplate.spec.template`). `undefined` for any other
 * object, or one without a pod spec.
 */
export function extractWorkload(object: unknown): Workload | undefined {
  const obj = record(object);
  const kind = obj?.kind;
  if (!obj || typeof kind !== 'string' || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) return undefined;
  const template = podTemplate(kind as WorkloadKind, obj);
  const spec = record(template?.spec);
  if (!template || !spec) return undefined;
  const meta = (record(obj.metadata) ?? {}) as ObjectMeta;
  const podMeta = record(template.metadata) ?? {};
  const labels = strings(podMeta.labels);
  const name = typeof meta.name === 'string' && meta.name ? meta.name : typeof meta.generateName === 'string' ? meta.generateName : '';
  return {
    kind: kind as WorkloadKind,
    name,
    namespace: typeof meta.namespace === 'string' ? meta.namespace : undefined,
    labels,
    annotations: strings(podMeta.annotations),
    spec: spec as PodSpec,
    owners: owners(meta, labels),
  };
}
