import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';

/**
 * A real OCI registry for tests: Debian's `docker-registry` (distribution 2.8) on a free loopback port, with our own
 * config and temporary storage (never the packaged config, which listens on every interface), and optionally the
 * Docker token auth flow: a small token service here issues ES256 JWTs the registry verifies against a self-signed
 * certificate (x5c), after checking Basic credentials.
 */
export interface TestRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  base: string;
  /** Basic credentials the token service accepts (token auth only). */
  credentials?: { username: string; password: string };
  /** Pushes bytes as a blob; answers the digest. */
  pushBlob(repo: string, bytes: Buffer): Promise<string>;
  pushManifest(repo: string, reference: string, manifest: object, mediaType: string): Promise<string>;
  /** Builds and pushes a one-layer image (a tar with one file); answers the manifest digest. */
  pushImage(repo: string, tag: string, content: string, platform?: { os: string; architecture: string }): Promise<string>;
  /** A multi-arch index of two fresh images; answers the index digest and the platform digests. */
  pushIndex(repo: string, tag: string, content: string): Promise<{ index: string; amd64: string; arm64: string }>;
  stop(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A ustar archive holding one regular file. */
function tarOf(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const header = Buffer.alloc(512);
  const put = (text: string, offset: number, len: number) => header.write(text, offset, len, 'ascii');
  put(name, 0, 100);
  put('0000644\0', 100, 8);
  put('0000000\0', 108, 8);
  put('0000000\0', 116, 8);
  put(data.length.toString(8).padStart(11, '0') + '\0', 124, 12);
  put('00000000000\0', 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([header, data, pad, Buffer.alloc(1024)]);
}

async function waitFor(url: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${log()}`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`docker-registry did not start: ${log()}`);
}

export async function startRegistry(options: { tokenAuth?: boolean } = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const base = `http://${host}`;
  let tokenServer: Server | undefined;
  let auth = '';
  const credentials = options.tokenAuth ? { username: 'ci', password: `pw-${randomUUID()}` } : undefined;
  let adminToken: (scope: string) => Promise<string> = async () => '';
  if (options.tokenAuth) {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', '/CN=palisade-test-token', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    const pem = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const der = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const key = await importPKCS8(readFileSync(join(dir, 'key.pem'), 'utf8'), 'ES256');
    const issue = (scopes: string[]) => {
      const access = scopes.flatMap((s) => {
        const [type, name, actions] = s.split(':') as [string, string, string];
        return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
      });
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ access })
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', x5c: [der] })
        .setIssuer('palisade-test-issuer')
        .setSubject('ci')
        .setAudience('palisade-test-registry')
        .setIssuedAt(now)
        .setNotBefore(now - 5)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(key);
    };
    adminToken = (scope) => issue([scope]);
    tokenServer = createServer((req, res) => {
      const url = new URL(req.url!, 'http://token');
      const expected = `Basic ${Buffer.from(`${credentials!.username}:${credentials!.password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401).end();
        return;
      }
      void issue(url.searchParams.getAll('scope').flatMap((s) => s.split(' '))).then((token) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token })));
    });
    await new Promise<void>((r) => tokenServer!.listen(0, '127.0.0.1', r));
    const tokenPort = (tokenServer.address() as AddressInfo).port;
    auth = `auth:\n  token:\n    realm: http://127.0.0.1:${tokenPort}/token\n    service: palisade-test-registry\n    issuer: palisade-test-issuer\n    rootcertbundle: ${join(dir, 'cert.pem')}\n`;
  }
  writeFileSync(
    join(dir, 'config.yml'),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${host}\n${auth}`,
  );
  let output = '';
  const child = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  await waitFor(`${base}/v2/`, child, () => output);

  // The test pushes with full rights: a token for the repository (token auth) or nothing.
  const authHeader = async (repo: string): Promise<Record<string, string>> => (options.tokenAuth ? { authorization: `Bearer ${await adminToken(`repository:${repo}:pull,push`)}` } : {});

  const pushBlob = async (repo: string, bytes: Buffer) => {
    const digest = sha(bytes);
    const headers = await authHeader(repo);
    const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
    if (start.status !== 202) throw new Error(`blob upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, base);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: new Uint8Array(bytes) });
    if (put.status !== 201) throw new Error(`blob upload: ${put.status} ${await put.text()}`);
    return digest;
  };
  const pushManifest = async (repo: string, reference: string, manifest: object, mediaType: string) => {
    const body = Buffer.from(JSON.stringify(manifest));
    const res = await fetch(`${base}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: { ...(await authHeader(repo)), "content-type": mediaType }, body: new Uint8Array(body) });
    if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${await res.text()}`);
    return sha(body);
  };
  const image = async (repo: string, content: string, platform = { os: 'linux', architecture: 'amd64' }) => {
    const layer = tarOf('hello.txt', content);
    const layerDigest = await pushBlob(repo, layer);
    const config = Buffer.from(JSON.stringify({ ...platform, rootfs: { type: 'layers', diff_ids: [layerDigest] }, config: {} }));
    const configDigest = await pushBlob(repo, config);
    return {
      manifest: {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
      },
      platform,
    };
  };
  const pushImage = async (repo: string, tag: string, content: string, platform?: { os: string; architecture: string }) => {
    const { manifest } = await image(repo, content, platform);
    return pushManifest(repo, tag, manifest, 'application/vnd.oci.image.manifest.v1+json');
  };
  const pushIndex = async (repo: string, tag: string, content: string) => {
    const parts = await Promise.all(['amd64', 'arm64'].map((architecture) => image(repo, `${content} ${architecture}`, { os: 'linux', architecture })));
    // Platform manifests pushed by digest, untagged, as `docker buildx` does.
    const digests = await Promise.all(parts.map((p) => pushManifest(repo, sha(Buffer.from(JSON.stringify(p.manifest))), p.manifest, 'application/vnd.oci.image.manifest.v1+json')));
    const index = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: parts.map((p, i) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: digests[i], size: Buffer.from(JSON.stringify(p.manifest)).length, platform: p.platform })),
    };
    return { index: await pushManifest(repo, tag, index, 'application/vnd.oci.image.index.v1+json'), amd64: digests[0]!, arm64: digests[1]! };
  };
  return {
    host,
    base,
    credentials,
    pushBlob,
    pushManifest,
    pushImage,
    pushIndex,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
      await new Promise((r) => (tokenServer ? tokenServer.close(r) : r(undefined)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
