import { CoreV1Api, CustomObjectsApi, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { isDeepStrictEqual } from 'node:util';
import type { PodInfo } from './mapping.ts';
import type { PodCache } from './pods.ts';
import { LABEL_MANAGED, LABEL_NODE, MANAGED_BY, nodeLabelValue } from './tracing-policy.ts';

const GROUP = 'cilium.io';
const VERSION = 'v1alpha1';
const PLURAL = 'tracingpoliciesnamespaced';

type K8sObject = { metadata: { name: string; namespace: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };

/** The Kubernetes configuration: a kubeconfig file, or the pod's service account. */
export function kubeConfig(file?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromCluster();
  return kc;
}

/** A Pod from the API as the node agent uses it. */
export function podInfo(pod: V1Pod): PodInfo {
  const spec = pod.spec;
  const containers = [...(spec?.initContainers ?? []), ...(spec?.containers ?? []), ...(spec?.ephemeralContainers ?? [])].map((c) => ({ name: c.name, image: c.image ?? '' }));
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    labels: { ...(pod.metadata?.labels ?? {}) },
    owners: (pod.metadata?.ownerReferences ?? []).map((o) => ({ kind: o.kind, name: o.name })),
    containers,
    containerIds: Object.fromEntries(
      [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])]
        .filter((s) => s.containerID)
        .map((s) => [s.name, s.containerID!.replace(/^[a-z0-9-]+:\/\//, '')]),
    ),
  };
}

/**
 * Keeps the pod cache equal to this node's pods: a list, then a watch from its resourceVersion (field selector
 * `spec.nodeName`), listing again after the watch ends or fails, with a capped backoff. `onChange` runs after every
 * change (the Tetragon policies follow the pods).
 */
export class PodWatcher {
  #stopped = false;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;
  errors = 0;

  constructor(private readonly kc: KubeConfig, private readonly node: string, private readonly cache: PodCache, private readonly onChange: () => void, private readonly log: (e: Record<string, unknown>) => void = () => undefined) {}

  start(): void {
    void this.#run();
  }

  stop(): void {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
  }

  async #run(): Promise<void> {
    const core = this.kc.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${this.node}`;
    let delay = 1000;
    while (!this.#stopped) {
      try {
        const list = await core.listPodForAllNamespaces({ fieldSelector });
        const seen = new Set<string>();
        for (const pod of list.items) {
          const info = podInfo(pod);
          seen.add(`${info.namespace}/${info.name}`);
          this.cache.set(info);
        }
        for (const p of [...this.cache.all()]) if (!seen.has(`${p.namespace}/${p.name}`)) this.cache.delete(p.namespace, p.name);
        this.onChange();
        delay = 1000;
        await new Promise<void>((done) => {
          this.#wake = done;
          void new Watch(this.kc)
            .watch('/api/v1/pods', { fieldSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: true }, (phase, obj: V1Pod) => {
              if (phase === 'BOOKMARK') return;
              const info = podInfo(obj);
              if (phase === 'DELETED') this.cache.delete(info.namespace, info.name);
              else this.cache.set(info);
              this.onChange();
            }, (err) => {
              if (err) this.log({ event: 'pod_watch_ended', message: String((err as Error)?.message ?? err) });
              done();
            })
            .then((ac) => (this.#abort = ac), (err: Error) => (this.log({ event: 'pod_watch_failed', message: err.message }), done()));
        });
      } catch (err) {
        this.errors++;
        this.log({ event: 'pod_list_failed', message: err instanceof Error ? err.message : String(err) });
        await new Promise<void>((r) => {
          this.#wake = r;
          setTimeout(r, delay).unref?.();
        });
        delay = Math.min(delay * 2, 60_000);
      }
    }
  }
}

/** The few calls the policy sync makes; the real one is `k8sTracingPolicies`, tests may pass their own. */
export interface TracingPolicyApi {
  list(labelSelector: string): Promise<K8sObject[]>;
  create(namespace: string, body: unknown): Promise<void>;
  replace(namespace: string, name: string, body: unknown): Promise<void>;
  delete(namespace: string, name: string): Promise<void>;
}

export function k8sTracingPolicies(kc: KubeConfig): TracingPolicyApi {
  const api = kc.makeApiClient(CustomObjectsApi);
  return {
    list: async (labelSelector) => ((await api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, labelSelector })) as { items: K8sObject[] }).items,
    create: async (namespace, body) => void (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, body })),
    replace: async (namespace, name, body) => void (await api.replaceNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name, body })),
    delete: async (namespace, name) => void (await api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, namespace, name })),
  };
}

/**
 * Makes this node's TracingPolicyNamespaced objects (label `palisade.dev/node`) equal to the desired set: creates the
 * missing, replaces the changed (spec, labels or annotations), deletes the ones no longer wanted. Other nodes'
 * objects and objects not managed by the agent are never touched.
 */
export async function syncTracingPolicies(api: TracingPolicyApi, node: string, desired: ReadonlyMap<string, Record<string, unknown>>): Promise<{ created: number; updated: number; deleted: number }> {
  const existing = await api.list(`${LABEL_MANAGED}=${MANAGED_BY},${LABEL_NODE}=${nodeLabelValue(node)}`);
  const byName = new Map(existing.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  const result = { created: 0, updated: 0, deleted: 0 };
  for (const want of desired.values()) {
    const meta = want.metadata as K8sObject['metadata'];
    const have = byName.get(`${meta.namespace}/${meta.name}`);
    byName.delete(`${meta.namespace}/${meta.name}`);
    if (!have) {
      await api.create(meta.namespace, want);
      result.created++;
    } else if (!isDeepStrictEqual(have.spec, want.spec) || !isDeepStrictEqual(have.metadata.labels ?? {}, meta.labels ?? {}) || !isDeepStrictEqual(have.metadata.annotations ?? {}, meta.annotations ?? {})) {
      await api.replace(meta.namespace, meta.name, { ...want, metadata: { ...meta, resourceVersion: have.metadata.resourceVersion } });
      result.updated++;
    }
  }
  for (const gone of byName.values()) {
    await api.delete(gone.metadata.namespace, gone.metadata.name);
    result.deleted++;
  }
  return result;
}
