import type { Check, ContainerView, Violation } from '../types.ts';

type Rule = (c: ContainerView) => string | undefined;

const resource = (kind: 'requests' | 'limits', name: 'cpu' | 'memory'): Rule => (c) => {
  // Ephemeral containers may not set resources (the API forbids it), so they are not held to these rules.
  if (c.type === 'ephemeralContainer') return undefined;
  const value = c.spec.resources?.[kind]?.[name];
  return value === undefined || value === null || value === '' ? `container "${c.name}" sets no ${name} ${kind === 'requests' ? 'request' : 'limit'}` : undefined;
};

/** Each best practice: a message when the container breaks it. Image rules skip invalid references (see `imageReference`). */
const RULES: Record<string, Rule> = {
  /** An explicit tag other than `latest`; a reference pinned by digest passes whatever its tag, since the digest is what runs. */
  imageTagNotLatest: (c) =>
    !c.ref || c.ref.digest !== undefined || (c.ref.tagExplicit && c.ref.tag !== 'latest') ? undefined
      : c.ref.tagExplicit
        ? `image "${c.image}" uses the tag latest, which can change under it; use a version tag or a digest`
        : `image "${c.image}" has no tag, so it runs whatever latest is; use a version tag or a digest`,
  imageDigestPinned: (c) => (!c.ref || c.ref.digest !== undefined ? undefined : `image "${c.image}" is not pinned by digest`),
  cpuRequestsSet: resource('requests', 'cpu'),
  cpuLimitsSet: resource('limits', 'cpu'),
  memoryRequestsSet: resource('requests', 'memory'),
  memoryLimitsSet: resource('limits', 'memory'),
};

/** `bestPracticeCheck.<check>`: the configured checks, on every container. */
export const bestPracticeCheck: Check = {
  section: 'bestPracticeCheck',
  enabled: (p) => p.bestPracticeCheck.enabled && p.bestPracticeCheck.checks.length > 0,
  run(ctx, policy) {
    const out: Violation[] = [];
    for (const id of new Set(policy.bestPracticeCheck.checks)) {
      const rule = RULES[id];
      if (!rule) continue;
      for (const c of ctx.containers) {
        const message = rule(c);
        if (message) out.push({ check: `bestPracticeCheck.${id}`, container: c, message, severity: 'low' });
      }
    }
    return out;
  },
};
