import type { Check, Violation } from '../types.ts';
import type { PrivilegeRule } from './privileges/common.ts';
import { PSS_LEVELS } from './privileges/pss.ts';
import { SETTINGS } from './privileges/settings.ts';

const run = (prefix: string, rules: PrivilegeRule[], ctx: Parameters<Check['run']>[0]): Violation[] =>
  rules.flatMap((rule) => rule.run(ctx).map((v) => ({ check: `${prefix}${rule.id}`, container: v.container, message: v.message, severity: rule.severity })));

/**
 * `limitContainerPrivileges`: the preset's Pod Security Standards checks (`limitContainerPrivileges.baseline.<pssId>`,
 * `limitContainerPrivileges.restricted.<pssId>`) and each listed setting on its own
 * (`limitContainerPrivileges.<setting>`). Preset and settings may be combined; each reports its own findings.
 */
export const limitContainerPrivilegesCheck: Check = {
  section: 'limitContainerPrivileges',
  enabled: (p) => p.limitContainerPrivileges.enabled && (p.limitContainerPrivileges.preset !== undefined || p.limitContainerPrivileges.settings.length > 0),
  run(ctx, policy) {
    const { preset, settings } = policy.limitContainerPrivileges;
    const out = preset ? run(`limitContainerPrivileges.${preset}.`, PSS_LEVELS[preset], ctx) : [];
    return out.concat(run('limitContainerPrivileges.', [...new Set(settings)].map((s) => SETTINGS[s]), ctx));
  },
};
