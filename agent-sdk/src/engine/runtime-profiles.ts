import type { BundlePolicy } from '../../../schema/bundle.ts';
import { matchesImageTemplate } from '../../../schema/image-template.ts';
import type { CheckContext } from './types.ts';

/**
 * Adds the runtime profiles a policy maps onto the evaluated containers. A mapping by pod labels applies to every
 * container when all its label pairs are on the pod (template); a mapping by image URL templates applies to the
 * containers whose normalized image matches one of them. Profile ids are kept once per container, in order.
 */
export function addRuntimeProfiles(into: Map<string, string[]>, policy: BundlePolicy, ctx: CheckContext): void {
  if (!policy.containerRuntimeProfiles.enabled) return;
  for (const mapping of policy.containerRuntimeProfiles.mappings) {
    const labels = Object.entries(mapping.podLabels ?? {});
    const targets =
      labels.length > 0
        ? labels.every(([k, v]) => ctx.workload.labels[k] === v)
          ? ctx.containers
          : []
        : ctx.containers.filter((c) => c.ref && (mapping.imageUrlTemplates ?? []).some((t) => matchesImageTemplate(t, c.ref!)));
    for (const c of targets) {
      const ids = into.get(c.name) ?? [];
      for (const id of mapping.profileIds) if (!ids.includes(id)) ids.push(id);
      into.set(c.name, ids);
    }
  }
}
