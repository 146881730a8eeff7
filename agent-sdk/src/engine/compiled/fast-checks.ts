import type { BundlePolicy } from '../../../../schema/bundle.ts';
import type { ImageReference } from '../../../../schema/image-reference.ts';
import type { PrivilegeRule } from '../checks/privileges/common.ts';
import { PSS_LEVELS } from '../checks/privileges/pss.ts';
import { SETTINGS } from '../checks/privileges/settings.ts';
import type { Check, CheckContext, Violation } from '../types.ts';

/**
 * Faster implementations of checks, their policy's settings prepared once, where one exists; else the check's own
 * `run`. Each must decide exactly as the check it replaces (the compiled-evaluator property test compares them).
 */
export function fastCheck(check: Check, policy: BundlePolicy): ((ctx: CheckContext) => Violation[]) | undefined {
  if (check.section === 'limitContainerPrivileges') return privileges(policy);
  if (check.section === 'registriesAllowed') return registries(policy);
  return undefined;
}

/** `limitContainerPrivileges`: the preset's rules, then each distinct setting, with their check ids made once. */
function privileges(policy: BundlePolicy): (ctx: CheckContext) => Violation[] {
  const { preset, settings } = policy.limitContainerPrivileges;
  const rules: Array<[string, PrivilegeRule]> = [
    ...(preset ? PSS_LEVELS[preset].map((r): [string, PrivilegeRule] => [`limitContainerPrivileges.${preset}.${r.id}`, r]) : []),
    ...[...new Set(settings)].map((s): [string, PrivilegeRule] => [`limitContainerPrivileges.${SETTINGS[s].id}`, SETTINGS[s]]),
  ];
  return (ctx) => {
    const out: Violation[] = [];
    for (const [check, rule] of rules) for (const v of rule.run(ctx)) out.push({ check, container: v.container, message: v.message, severity: rule.severity });
    return out;
  };
}

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/** An allowed-registry entry read once: `registryAllows` (checks/registries-allowed.ts) on the prepared parts. */
interface Entry {
  host: string;
  path: string;
  /** `library/<path>`, for a one-segment Docker Hub path (the official image). */
  official?: string;
}

function entry(text: string): Entry {
  const slash = text.indexOf('/');
  let host = (slash >= 0 ? text.slice(0, slash) : text).toLowerCase();
  if (DOCKER_HUB.has(host)) host = 'docker.io';
  const path = slash >= 0 ? text.slice(slash + 1).replace(/\/+$/, '') : '';
  return { host, path, ...(host === 'docker.io' && path !== '' && !path.includes('/') ? { official: `library/${path}` } : {}) };
}

const under = (repository: string, p: string) => repository === p || (repository.length > p.length && repository.charCodeAt(p.length) === 47 && repository.startsWith(p));

function allows(e: Entry, ref: ImageReference): boolean {
  if (ref.registry !== e.host) return false;
  if (e.path === '') return true;
  return under(ref.repository, e.path) || (e.official !== undefined && under(ref.repository, e.official));
}

/** `registriesAllowed`: the entries parsed and the list's wording made once. */
function registries(policy: BundlePolicy): (ctx: CheckContext) => Violation[] {
  const list = policy.registriesAllowed.registries;
  const entries = list.map(entry);
  const named = list.length === 0 ? 'none: the list is empty' : list.slice(0, 10).join(', ') + (list.length > 10 ? `, and ${list.length - 10} more` : '');
  return (ctx) => {
    const out: Violation[] = [];
    for (const c of ctx.containers) {
      const ref = c.ref;
      if (!ref || entries.some((e) => allows(e, ref))) continue;
      out.push({ check: 'registriesAllowed', container: c, message: `image "${c.image}" is from registry ${ref.registry}, which is not in the allowed registries (${named})`, severity: 'high' });
    }
    return out;
  };
}
