/**
 * OCI distribution wire details, runtime-neutral (no I/O): media types, the Accept list for manifests, digest and
 * `Link` / `WWW-Authenticate` parsing. The control plane's registry sync (workers/registries/) uses it; the agent's OCI
 * client (agent-sdk/src/oci/) can share it.
 *
 * Spec: https://github.com/opencontainers/distribution-spec/blob/main/spec.md (tags/list pagination with `n`/`last`
 * and `Link: <...>; rel="next"`; manifests by tag with `Docker-Content-Digest`), the Docker token auth flow
 * (https://distribution.github.io/distribution/spec/auth/token/).
 */

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** What a manifest request accepts: image manifests and indexes of both families (order is preference). */
export const MANIFEST_ACCEPT = [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociManifest, MEDIA_TYPES.dockerManifest].join(', ');

export const isIndexMediaType = (type: string | undefined | null): boolean => {
  const t = (type ?? '').split(';')[0]!.trim().toLowerCase();
  return t === MEDIA_TYPES.ociIndex || t === MEDIA_TYPES.dockerManifestList;
};
export const isManifestMediaType = (type: string | undefined | null): boolean => {
  const t = (type ?? '').split(';')[0]!.trim().toLowerCase();
  return t === MEDIA_TYPES.ociManifest || t === MEDIA_TYPES.dockerManifest || isIndexMediaType(t);
};

/** The digests this project stores: sha256 only, lowercase hex. */
export const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

/** A sha256 digest from a header or document, or undefined when it is not one. */
export function parseDigest(value: string | null | undefined): string | undefined {
  const v = value?.trim();
  return v && SHA256_DIGEST.test(v) ? v : undefined;
}

/** `sha256:<hex>` of bytes, with WebCrypto (available on Node and Workers alike). */
export async function sha256Digest(bytes: Uint8Array): Promise<string> {
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
  return `sha256:${[...hash].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Repository names as the distribution spec allows them (path components, lowercase). */
export const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
export const TAG_NAME = /^[\w][\w.-]{0,127}$/;

/**
 * The `rel="next"` target of a `Link` header, resolved against the request URL, or undefined. Registries answer a
 * relative reference (`</v2/_catalog?last=x&n=100>; rel="next"`).
 */
export function nextLink(header: string | null | undefined, base: string): URL | undefined {
  if (!header) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(?:^|;)\s*rel\s*=\s*"?next"?\s*(?:;|$)/i.test(m[2]!)) {
      try {
        return new URL(m[1]!, base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export interface AuthChallenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `WWW-Authenticate` (RFC 9110 §11.6.1): `Bearer realm="...",service="...",scope="..."` or `Basic realm=...`. */
export function parseChallenges(header: string | null | undefined): AuthChallenge[] {
  const out: AuthChallenge[] = [];
  const s = header ?? '';
  const token = /[\w!#$%&'*+.^`|~-]+/y;
  let i = 0;
  let current: AuthChallenge | undefined;
  const skip = (chars: RegExp) => {
    while (i < s.length && chars.test(s[i]!)) i++;
  };
  while (i < s.length) {
    skip(/[\s,]/);
    token.lastIndex = i;
    const m = token.exec(s);
    if (!m) break;
    i = token.lastIndex;
    skip(/\s/);
    if (s[i] === '=') {
      i++;
      skip(/\s/);
      let value = '';
      if (s[i] === '"') {
        i++;
        while (i < s.length && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < s.length) i++;
          value += s[i++];
        }
        i++;
      } else {
        const start = i;
        while (i < s.length && !/[\s,]/.test(s[i]!)) i++;
        value = s.slice(start, i);
      }
      if (current) current.params[m[0].toLowerCase()] = value;
    } else {
      current = { scheme: m[0].toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** A descriptor of an image index (only what the sync reads). */
export interface IndexManifest {
  manifests: Array<{ mediaType?: string; digest: string; platform?: { os?: string; architecture?: string; variant?: string } }>;
}

/** The platform manifests an index names (sha256 ones; attestation manifests with platform unknown/unknown left out). */
export function indexChildren(body: unknown): IndexManifest['manifests'] {
  const list = (body as { manifests?: unknown })?.manifests;
  if (!Array.isArray(list)) return [];
  return list.flatMap((m: { digest?: unknown; mediaType?: unknown; platform?: { os?: unknown; architecture?: unknown; variant?: unknown } }) => {
    const digest = typeof m?.digest === 'string' ? parseDigest(m.digest) : undefined;
    if (!digest) return [];
    const p = m.platform;
    if (p && p.os === 'unknown' && p.architecture === 'unknown') return [];
    const platform = p && typeof p.os === 'string' && typeof p.architecture === 'string' ? { os: p.os, architecture: p.architecture, ...(typeof p.variant === 'string' ? { variant: p.variant } : {}) } : undefined;
    return [{ digest, ...(typeof m.mediaType === 'string' ? { mediaType: m.mediaType } : {}), ...(platform ? { platform } : {}) }];
  });
}
