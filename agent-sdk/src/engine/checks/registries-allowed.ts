import type { ImageReference } from '../../../../schema/image-reference.ts';
import type { Check } from '../types.ts';

const DOCKER_HUB = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

/**
 * Whether an allowed-registry entry (`host[:port][/path]`) admits a normalized reference. The host must equal the
 * image's registry, port included (`registry.example.com` admits neither `registry.example.com:5000`, nor
 * `registry.example.com.evil.io`, nor `registry.example.community`); Docker Hub's spellings are one host. A path
 * admits that repository and those below it, by whole segments (`ghcr.io/acme` admits `ghcr.io/acme/x`, not
 * `ghcr.io/acmeevil/x`). On Docker Hub a one-segment path also admits the official image of that name:
 * `docker.io/ubuntu` admits `ubuntu:focal` (`docker.io/library/ubuntu`).
 */
export function registryAllows(entry: string, ref: ImageReference): boolean {
  const slash = entry.indexOf('/');
  let host = (slash >= 0 ? entry.slice(0, slash) : entry).toLowerCase();
  if (DOCKER_HUB.has(host)) host = 'docker.io';
  if (ref.registry !== host) return false;
  const path = slash >= 0 ? entry.slice(slash + 1).replace(/\/+$/, '') : '';
  if (path === '') return true;
  const under = (p: string) => ref.repository === p || ref.repository.startsWith(`${p}/`);
  return under(path) || (host === 'docker.io' && !path.includes('/') && under(`library/${path}`));
}

/** The allowed registries as the finding names them (the first ten; the list may be long). */
const allowedList = (registries: readonly string[]) =>
  registries.length === 0 ? 'none: the list is empty' : registries.slice(0, 10).join(', ') + (registries.length > 10 ? `, and ${registries.length - 10} more` : '');

/** `registriesAllowed`: every image comes from one of the listed registries (an empty list admits none). */
export const registriesAllowedCheck: Check = {
  section: 'registriesAllowed',
  enabled: (p) => p.registriesAllowed.enabled,
  run: (ctx, policy) =>
    ctx.containers
      .filter((c) => c.ref && !policy.registriesAllowed.registries.some((r) => registryAllows(r, c.ref!)))
      .map((c) => ({ check: 'registriesAllowed', container: c, message: `image "${c.image}" is from registry ${c.ref!.registry}, which is not in the allowed registries (${allowedList(policy.registriesAllowed.registries)})`, severity: 'high' as const })),
};
