import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, sign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running Debian `docker-registry` (distribution 2.x) on a free loopback port, with its own config and storage. */
export interface LocalRegistry {
  host: string;
  auth?: { username: string; password: string };
  stop(): Promise<void>;
}

export const hasRegistry = () => spawnSync('sh', ['-c', 'command -v docker-registry'], { encoding: 'utf8' }).status === 0;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject).listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Starts the registry; with `auth`, behind htpasswd basic auth (bcrypt file written by `htpasswd -B`). */
export async function startRegistry(o: { auth?: { username: string; password: string } } = {}): Promise<LocalRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-registry-'));
  const port = await freePort();
  let auth = '';
  if (o.auth) {
    const made = spawnSync('htpasswd', ['-Bbn', o.auth.username, o.auth.password], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`htpasswd failed: ${made.stderr}`);
    await writeFile(join(dir, 'htpasswd'), made.stdout);
    auth = `auth:\n  htpasswd:\n    realm: palisade-test\n    path: ${join(dir, 'htpasswd')}\n`;
  }
  // Never the packaged config: it listens on every interface.
  const config = `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'data')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`;
  await writeFile(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-4000)));
  const host = `127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (i > 100 || child.exitCode !== null) throw new Error(`docker-registry did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    host,
    ...(o.auth ? { auth: o.auth } : {}),
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const sha256 = (b: Uint8Array) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes to a registry over plain HTTP, with basic auth when given. */
export class Pusher {
  constructor(readonly host: string, private readonly auth?: { username: string; password: string }) {}
  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.auth ? { authorization: `Basic ${Buffer.from(`${this.auth.username}:${this.auth.password}`).toString('base64')}` } : {}) };
  }
  async blob(repo: string, bytes: Uint8Array): Promise<{ digest: string; size: number }> {
    const digest = sha256(bytes);
    const start = await fetch(`http://${this.host}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: this.headers() });
    if (start.status !== 202) throw new Error(`upload start: ${start.status}`);
    const loc = new URL(start.headers.get('location')!, `http://${this.host}`);
    loc.searchParams.set('digest', digest);
    const put = await fetch(loc, { method: 'PUT', headers: this.headers({ 'content-type': 'application/octet-stream' }), body: new Uint8Array(bytes) });
    if (put.status !== 201) throw new Error(`upload: ${put.status} ${await put.text()}`);
    return { digest, size: bytes.byteLength };
  }
  async manifest(repo: string, reference: string, manifest: unknown, mediaType = 'application/vnd.oci.image.manifest.v1+json'): Promise<string> {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${reference}`, { method: 'PUT', headers: this.headers({ 'content-type': mediaType }), body: new Uint8Array(bytes) });
    if (res.status !== 201) throw new Error(`manifest ${reference}: ${res.status} ${await res.text()}`);
    return sha256(bytes);
  }
}

/** A one-file tar archive (ustar), the smallest real layer. */
export function tarOf(name: string, content: string): Buffer {
  const body = Buffer.from(content);
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(body.length.toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0' + '00', 257);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const pad = Buffer.alloc((512 - (body.length % 512)) % 512);
  return Buffer.concat([header, body, pad, Buffer.alloc(1024)]);
}

/** Builds and pushes a small image (layer tar, config, OCI manifest) under `tag`; returns its digest. */
export async function pushImage(p: Pusher, repo: string, tag: string, seed: string): Promise<string> {
  const layer = tarOf('hello.txt', `hello from ${seed}\n`);
  const l = await p.blob(repo, layer);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [l.digest] }, config: {} }));
  const c = await p.blob(repo, config);
  return p.manifest(repo, tag, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...c },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l }],
  });
}

/** A cosign simple-signing payload for `digest`. */
export const payloadFor = (reference: string, digest: string) =>
  Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': reference }, image: { 'docker-manifest-digest': digest }, type: 'cosign container image signature' }, optional: null }));

/**
 * Signs as cosign's legacy format does: the payload blob as a layer of the manifest tagged `sha256-<hex>.sig`, the
 * base64 signature in an annotation. `payload` defaults to the simple-signing document for `digest`; `append` keeps
 * the layers already there.
 */
export async function signLegacy(p: Pusher, repo: string, digest: string, key: KeyObject, o: { payload?: Buffer; prefix?: string; extra?: Record<string, string>; signature?: string } = {}): Promise<void> {
  const payload = o.payload ?? payloadFor(`${p.host}/${repo}`, digest);
  const signature = o.signature ?? sign(key.asymmetricKeyType === 'ed25519' ? null : 'sha256', payload, key).toString('base64');
  const layer = await p.blob(repo, payload);
  const config = await p.blob(repo, Buffer.from('{}'));
  await p.manifest(repo, `${digest.replace(':', '-')}.sig`, {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', ...layer, annotations: { [`${o.prefix ?? 'dev.cosignproject.cosign'}/signature`]: signature, ...o.extra } }],
  });
}
