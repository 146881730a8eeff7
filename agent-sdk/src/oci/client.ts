import { RegistryError } from './errors.ts';
import { checkDigest, RegistryTransport, sha256Digest, type TransportOptions } from './transport.ts';

export const MEDIA = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;
const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.ociManifest, MEDIA.dockerList, MEDIA.dockerManifest].join(', ');

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** An image manifest or index, as far as signature discovery reads it. */
export interface Manifest {
  mediaType?: string;
  artifactType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface FetchedManifest {
  /** The digest of the bytes received (checked against the reference when that is a digest). */
  digest: string;
  mediaType: string;
  manifest: Manifest;
}

export interface OciClientOptions extends TransportOptions {
  /** Largest manifest or index read (4 MiB by default, the size registries themselves accept). */
  maxManifestBytes?: number;
  /** Largest blob read (signature payloads and bundles: 1 MiB by default). */
  maxBlobBytes?: number;
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

/** Tags and digests go into URL paths as they are, so only well-formed ones are accepted. */
function checkReference(repository: string, reference: string): void {
  if (!REPOSITORY.test(repository)) throw new RegistryError('badReference', `"${repository.slice(0, 200)}" is not a repository name`);
  if (!TAG.test(reference) && !DIGEST.test(reference)) throw new RegistryError('badReference', `"${reference.slice(0, 200)}" is neither a tag nor a sha256 digest`);
}

function parseManifest(bytes: Uint8Array, what: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new RegistryError('badResponse', `${what}: not JSON`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RegistryError('badResponse', `${what}: not a manifest object`);
  return json as Manifest;
}

/**
 * A small OCI distribution client over `fetch`: manifests (OCI and Docker, images and indexes) by tag or digest,
 * blobs, and the referrers API. Every byte fetched by digest is checked against it; sizes are capped; authentication
 * and redirects are the transport's (see {@link RegistryTransport}). Every call takes an AbortSignal (the deadline).
 *
 * @example
 * ```ts
 * const client = new OciClient({ credentials: parseDockerConfig(text) });
 * const { digest } = await client.manifest('ghcr.io', 'acme/web', 'v1', AbortSignal.timeout(2000));
 * ```
 */
export class OciClient {
  readonly transport: RegistryTransport;
  private readonly maxManifest: number;
  private readonly maxBlob: number;
  constructor(options: OciClientOptions = {}) {
    this.transport = new RegistryTransport(options);
    this.maxManifest = options.maxManifestBytes ?? 4 * 1024 * 1024;
    this.maxBlob = options.maxBlobBytes ?? 1024 * 1024;
  }

  /** A manifest by tag or digest; `undefined` when the registry has none (404). */
  async manifest(registry: string, repository: string, reference: string, signal: AbortSignal): Promise<FetchedManifest | undefined> {
    const what = `${registry}/${repository}:${reference}`;
    checkReference(repository, reference);
    const res = await this.transport.request(registry, `/v2/${repository}/manifests/${reference}`, { accept: MANIFEST_ACCEPT, scope: `repository:${repository}:pull`, maxBytes: this.maxManifest, signal });
    if (res.status === 404) return undefined;
    const digest = sha256Digest(res.body);
    if (reference.includes(':')) checkDigest(res.body, reference, what);
    const header = res.headers.get('docker-content-digest');
    // A registry that names another digest than the bytes it sent is not to be believed about anything.
    if (header && header.startsWith('sha256:') && header !== digest) throw new RegistryError('digestMismatch', `${what}: Docker-Content-Digest ${header} does not match the content (${digest})`);
    const manifest = parseManifest(res.body, what);
    const mediaType = manifest.mediaType ?? res.headers.get('content-type')?.split(';')[0]?.trim() ?? '';
    return { digest, mediaType, manifest };
  }

  /** Whether a manifest exists, and its digest as the registry states it (HEAD; not verified, no body). */
  async head(registry: string, repository: string, reference: string, signal: AbortSignal): Promise<string | undefined> {
    checkReference(repository, reference);
    const res = await this.transport.request(registry, `/v2/${repository}/manifests/${reference}`, { method: 'HEAD', accept: MANIFEST_ACCEPT, scope: `repository:${repository}:pull`, maxBytes: 0, signal });
    return res.status === 404 ? undefined : (res.headers.get('docker-content-digest') ?? '');
  }

  /** A blob by digest, its bytes checked against the digest; `undefined` on 404. */
  async blob(registry: string, repository: string, digest: string, signal: AbortSignal, maxBytes = this.maxBlob): Promise<Uint8Array | undefined> {
    checkReference(repository, digest);
    if (!DIGEST.test(digest)) throw new RegistryError('badReference', `${registry}/${repository}: blob digest "${digest.slice(0, 80)}" is not a sha256 digest`);
    const res = await this.transport.request(registry, `/v2/${repository}/blobs/${digest}`, { scope: `repository:${repository}:pull`, maxBytes, signal });
    if (res.status === 404) return undefined;
    checkDigest(res.body, digest, `${registry}/${repository}@${digest}`);
    return res.body;
  }

  /**
   * The referrers of a digest (OCI 1.1), filtered by artifact type: the referrers API, or, when the registry has none
   * (404), the `sha256-<hex>` tag-schema index. `[]` when neither lists anything. `artifactType` is sent as the
   * API's filter (registries may ignore it); `accept` decides which descriptors are kept.
   */
  async referrers(registry: string, repository: string, digest: string, artifactType: string, signal: AbortSignal, accept: (type: string) => boolean = (t) => t === artifactType): Promise<Descriptor[]> {
    checkReference(repository, digest);
    if (!DIGEST.test(digest)) throw new RegistryError('badReference', `${digest} is not a sha256 digest`);
    const res = await this.transport.request(registry, `/v2/${repository}/referrers/${digest}?artifactType=${encodeURIComponent(artifactType)}`, { accept: MEDIA.ociIndex, scope: `repository:${repository}:pull`, maxBytes: this.maxManifest, signal });
    let index: Manifest | undefined;
    if (res.status === 404) index = (await this.manifest(registry, repository, digest.replace(':', '-'), signal))?.manifest;
    else index = parseManifest(res.body, `${registry}/${repository} referrers of ${digest}`);
    const list = Array.isArray(index?.manifests) ? index.manifests : [];
    return list.filter((d) => d && typeof d.digest === 'string' && typeof d.artifactType === 'string' && accept(d.artifactType));
  }
}
