import { indexChildren, isIndexMediaType, MANIFEST_ACCEPT, nextLink, parseChallenges, parseDigest, sha256Digest } from '../../schema/oci.ts';
import { guardDestination, RefusedDestination, type Resolve } from '../webhooks/ssrf.ts';
import type { Credentials } from './credentials.ts';

/** The most bytes read from any registry answer (catalog pages, tag lists, indexes); more is an error. */
const MAX_BODY = 4 * 1024 * 1024;
const PAGE = 100;

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export interface RegistryClientOptions {
  /** `https://host[:port]` (http only for loopback when allowed). */
  base: string;
  credentials?: Credentials;
  fetch: typeof fetch;
  /** The SSRF guard's resolver and setting; every URL (the registry's, a token realm's, a pagination link's) passes it. */
  resolve: Resolve;
  allowLoopback: boolean;
}

export interface TagManifest {
  tag: string;
  digest: string;
  mediaType: string;
  /** The platform manifests of a multi-arch index. */
  children: Array<{ digest: string; platform: string }>;
}

/**
 * A small OCI distribution client on `fetch` alone (runs on Workers): catalog and tag listing with `Link`
 * pagination, manifest digests by HEAD, multi-arch indexes, Basic auth and the Bearer token challenge. Redirects are
 * not followed: a registry cannot bounce us past the SSRF guard.
 */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();
  constructor(private readonly opts: RegistryClientOptions) {}

  private basic(): string | undefined {
    const c = this.opts.credentials;
    return c ? `Basic ${btoa(String.fromCharCode(...new TextEncoder().encode(`${c.username}:${c.password}`)))}` : undefined;
  }

  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      await guardDestination(url.href, { allowLoopback: this.opts.allowLoopback, resolve: this.opts.resolve });
    } catch (err) {
      if (err instanceof RefusedDestination) throw new RegistryError(`${url.host}: ${err.message}`);
      throw err;
    }
    let res: Response;
    try {
      res = await this.opts.fetch(url, { ...init, redirect: 'manual' });
    } catch (err) {
      throw new RegistryError(`${url.host} could not be reached: ${(err as Error).message}`);
    }
    if (res.status >= 300 && res.status < 400) {
      await res.body?.cancel();
      throw new RegistryError(`${url.pathname} answered a redirect (${res.status}); redirects are not followed`, res.status);
    }
    return res;
  }

  /** The token for a Bearer challenge, fetched from its realm (with Basic credentials when we have them). */
  private async token(params: Record<string, string>): Promise<string> {
    const realm = params.realm ? URL.parse(params.realm) : null;
    if (!realm) throw new RegistryError('the registry asked for a token without a usable realm');
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) realm.searchParams.set('scope', params.scope);
    const basic = this.basic();
    const res = await this.send(realm, { headers: basic ? { authorization: basic } : {} });
    if (!res.ok) {
      await res.body?.cancel();
      throw new RegistryError(`the token service ${realm.host} refused (${res.status})${basic ? '; check the credentials' : ''}`, res.status);
    }
    const body = JSON.parse(await readCapped(res)) as { token?: unknown; access_token?: unknown };
    const token = typeof body.token === 'string' ? body.token : typeof body.access_token === 'string' ? body.access_token : undefined;
    if (!token) throw new RegistryError(`the token service ${realm.host} answered no token`);
    return token;
  }

  /** A request with auth: answers a 401 challenge once (Bearer or Basic), caching tokens per scope. */
  async request(path: string | URL, init: { method?: string; headers?: Record<string, string> } = {}, scopeKey = ''): Promise<Response> {
    const url = typeof path === 'string' ? new URL(path, this.opts.base) : path;
    const cached = this.tokens.get(scopeKey);
    const headers = { ...init.headers, ...(cached ? { authorization: cached } : {}) };
    let res = await this.send(url, { method: init.method ?? 'GET', headers });
    if (res.status !== 401) return res;
    await res.body?.cancel();
    const challenges = parseChallenges(res.headers.get('www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    let authorization: string | undefined;
    if (bearer) authorization = `Bearer ${await this.token(bearer.params)}`;
    else if (challenges.some((c) => c.scheme === 'basic') && this.basic()) authorization = this.basic();
    if (!authorization) throw new RegistryError(`${url.pathname} needs credentials${this.opts.credentials ? ' the registry did not accept' : ''} (401)`, 401);
    this.tokens.set(scopeKey, authorization);
    res = await this.send(url, { method: init.method ?? 'GET', headers: { ...init.headers, authorization } });
    if (res.status === 401) {
      await res.body?.cancel();
      throw new RegistryError(`${url.pathname}: the registry refused the credentials (401)`, 401);
    }
    return res;
  }

  /** Pages through a list endpoint (`_catalog`, `tags/list`) following `Link: rel="next"`, up to `limit` items. */
  private async list(path: string, member: 'repositories' | 'tags', limit: number, scopeKey: string): Promise<{ items: string[]; truncated: boolean }> {
    const items: string[] = [];
    let url: URL | undefined = new URL(`${path}?n=${Math.min(PAGE, limit)}`, this.opts.base);
    const origin = new URL(this.opts.base).origin;
    for (let pages = 0; url && pages < 1000; pages++) {
      const res = await this.request(url, {}, scopeKey);
      if (!res.ok) {
        await res.body?.cancel();
        throw new RegistryError(`${url.pathname} answered ${res.status}`, res.status);
      }
      const body = JSON.parse(await readCapped(res)) as Record<string, unknown>;
      const page = Array.isArray(body[member]) ? (body[member] as unknown[]).filter((x): x is string => typeof x === 'string') : [];
      for (const item of page) {
        if (items.length >= limit) return { items, truncated: true };
        items.push(item);
      }
      url = nextLink(res.headers.get('link'), url.href);
      // A next link elsewhere is not followed: pagination stays on the registry.
      if (url && url.origin !== origin) throw new RegistryError(`${path}: a pagination link points at another host (${url.host})`);
    }
    return { items, truncated: false };
  }

  catalog(limit: number) {
    return this.list('/v2/_catalog', 'repositories', limit, 'registry:catalog:*');
  }

  tags(repository: string, limit: number) {
    return this.list(`/v2/${repository}/tags/list`, 'tags', limit, `repository:${repository}:pull`);
  }

  /** The digest a tag resolves to (HEAD, `Docker-Content-Digest`), and for an index its platform manifests. */
  async manifest(repository: string, tag: string): Promise<TagManifest> {
    const scope = `repository:${repository}:pull`;
    const path = `/v2/${repository}/manifests/${encodeURIComponent(tag)}`;
    const head = await this.request(path, { method: 'HEAD', headers: { accept: MANIFEST_ACCEPT } }, scope);
    await head.body?.cancel();
    if (!head.ok) throw new RegistryError(`manifest ${repository}:${tag} answered ${head.status}`, head.status);
    let digest = parseDigest(head.headers.get('docker-content-digest'));
    const mediaType = (head.headers.get('content-type') ?? '').split(';')[0]!.trim();
    let body: string | undefined;
    if (!digest || isIndexMediaType(mediaType)) {
      const res = await this.request(path, { headers: { accept: MANIFEST_ACCEPT } }, scope);
      if (!res.ok) {
        await res.body?.cancel();
        throw new RegistryError(`manifest ${repository}:${tag} answered ${res.status}`, res.status);
      }
      const bytes = new Uint8Array(await (await capped(res)).arrayBuffer());
      body = new TextDecoder().decode(bytes);
      digest ??= await sha256Digest(bytes);
    }
    const children = body && isIndexMediaType(mediaType)
      ? indexChildren(JSON.parse(body)).map((m) => ({ digest: m.digest, platform: m.platform ? [m.platform.os, m.platform.architecture, m.platform.variant].filter(Boolean).join('/') : 'unknown' }))
      : [];
    return { tag, digest, mediaType, children };
  }
}

/** The response, refused when it announces or delivers more than MAX_BODY bytes. */
async function capped(res: Response): Promise<Response> {
  const length = Number(res.headers.get('content-length') ?? '0');
  if (length > MAX_BODY) {
    await res.body?.cancel();
    throw new RegistryError(`an answer of ${length} bytes exceeds ${MAX_BODY}`);
  }
  if (!res.body) return res;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_BODY) {
      await reader.cancel();
      throw new RegistryError(`an answer exceeds ${MAX_BODY} bytes`);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new Response(all, { status: res.status, headers: res.headers });
}

async function readCapped(res: Response): Promise<string> {
  return (await capped(res)).text();
}
