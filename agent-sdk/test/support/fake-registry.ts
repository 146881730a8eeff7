import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

const sha = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * A small in-process OCI registry with what Debian's docker-registry lacks: the referrers API. Pulls need a Bearer
 * token from its own token endpoint (the `WWW-Authenticate` challenge flow), and blobs are served by a redirect to a
 * second server ("blob storage") that must not see the Authorization header.
 */
export class FakeRegistry {
  readonly blobs = new Map<string, Buffer>();
  readonly manifests = new Map<string, { bytes: Buffer; type: string }>();
  readonly tags = new Map<string, string>();
  readonly token = randomBytes(12).toString('hex');
  storageSawAuthorization = false;
  tokenRequests = 0;
  private registry!: Server;
  private storage!: Server;
  host = '';
  private storageHost = '';

  async start(): Promise<this> {
    this.storage = createServer((req, res) => {
      if (req.headers.authorization) this.storageSawAuthorization = true;
      const blob = this.blobs.get(decodeURIComponent(req.url!.slice(1)));
      if (!blob) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': blob.length }).end(blob);
    });
    this.registry = createServer((req, res) => this.handle(req, res));
    for (const s of [this.storage, this.registry]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    this.storageHost = `127.0.0.1:${(this.storage.address() as { port: number }).port}`;
    this.host = `127.0.0.1:${(this.registry.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of [this.storage, this.registry]) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }

  blob(bytes: Buffer): { digest: string; size: number } {
    const digest = sha(bytes);
    this.blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  }

  manifest(repo: string, manifest: Record<string, unknown>, tag?: string): { digest: string; size: number; mediaType: string } {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const digest = sha(bytes);
    const type = String(manifest.mediaType);
    this.manifests.set(`${repo}@${digest}`, { bytes, type });
    if (tag) this.tags.set(`${repo}:${tag}`, digest);
    return { digest, size: bytes.length, mediaType: type };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url!, `http://${this.host}`);
    if (url.pathname === '/token') {
      this.tokenRequests++;
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: this.token, expires_in: 300 }));
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers)\//.exec(url.pathname);
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${this.host}/token",service="fake",scope="repository:${m?.[1] ?? ''}:pull"` });
      return void res.end();
    }
    const m = /^\/v2\/(.+?)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, repo, kind, ref] = m as unknown as [string, string, string, string];
    if (kind === 'blobs') {
      if (!this.blobs.has(ref)) return void res.writeHead(404).end();
      return void res.writeHead(307, { location: `http://${this.storageHost}/${encodeURIComponent(ref)}` }).end();
    }
    if (kind === 'referrers') {
      const manifests = [...this.manifests.entries()]
        .filter(([k]) => k.startsWith(`${repo}@`))
        .map(([k, v]) => ({ digest: k.slice(repo.length + 1), m: JSON.parse(v.bytes.toString()), size: v.bytes.length, type: v.type }))
        .filter((e) => e.m.subject?.digest === ref)
        .map((e) => ({ mediaType: e.type, digest: e.digest, size: e.size, artifactType: e.m.artifactType }));
      const body = JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
      return void res.writeHead(200, { 'content-type': 'application/vnd.oci.image.index.v1+json' }).end(body);
    }
    const digest = ref.startsWith('sha256:') ? ref : this.tags.get(`${repo}:${ref}`);
    const found = digest ? this.manifests.get(`${repo}@${digest}`) : undefined;
    if (!found) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': found.type, 'docker-content-digest': digest!, 'content-length': found.bytes.length });
    res.end(req.method === 'HEAD' ? undefined : found.bytes);
  }
}

/** Pushes a small image to the fake registry; returns its descriptor. */
export function fakeImage(reg: FakeRegistry, repo: string, tag: string, seed: string) {
  const layer = reg.blob(Buffer.from(`layer ${seed}`));
  const config = reg.blob(Buffer.from(JSON.stringify({ os: 'linux', rootfs: { type: 'layers', diff_ids: [layer.digest] } })));
  return reg.manifest(repo, { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }] }, tag);
}

/** Attaches a Sigstore bundle to `subject` as cosign v3 does (an OCI 1.1 referrer). */
export function attachBundle(reg: FakeRegistry, repo: string, subject: { digest: string; size: number; mediaType: string }, bundle: unknown) {
  const blob = reg.blob(Buffer.from(JSON.stringify(bundle)));
  const empty = reg.blob(Buffer.from('{}'));
  return reg.manifest(repo, {
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', ...empty },
    layers: [{ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', ...blob }],
    subject,
  });
}
