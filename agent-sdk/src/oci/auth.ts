import { z } from 'zod';

/** Username and password for one registry host (from a `.dockerconfigjson`). */
export interface RegistryCredential {
  username: string;
  password: string;
}

const DockerConfig = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() })),
});

/** `https://index.docker.io/v1/`, `ghcr.io`, `http://127.0.0.1:5000` → the host key we look up by. */
function hostOf(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!.toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/**
 * Reads a `.dockerconfigjson` (a Kubernetes `kubernetes.io/dockerconfigjson` Secret's content): credentials per
 * registry host. Throws an Error naming the problem (never a credential) when the document is not one.
 *
 * @example
 * ```ts
 * const creds = parseDockerConfig(await readFile('/etc/palisade/registry/.dockerconfigjson', 'utf8'));
 * creds.get('ghcr.io'); // { username, password }
 * ```
 */
export function parseDockerConfig(text: string): Map<string, RegistryCredential> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('not JSON');
  }
  const parsed = DockerConfig.safeParse(json);
  if (!parsed.success) throw new Error('not a .dockerconfigjson document (an object with "auths")');
  const out = new Map<string, RegistryCredential>();
  for (const [key, entry] of Object.entries(parsed.data.auths)) {
    let { username, password } = entry;
    if (entry.auth !== undefined) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new Error(`auths["${key}"].auth is not base64 of "user:password"`);
      [username, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    }
    if (username !== undefined && password !== undefined) out.set(hostOf(key), { username, password });
  }
  return out;
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses one `WWW-Authenticate` challenge: `Bearer realm="https://auth",service="reg",scope="repository:x:pull"`. */
export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?\s*/gy;
  const rest = m[2] ?? '';
  let p: RegExpExecArray | null;
  while (re.lastIndex < rest.length && (p = re.exec(rest)) !== null) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  return { scheme: m[1]!.toLowerCase(), params };
}

export const basicHeader = (c: RegistryCredential) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
