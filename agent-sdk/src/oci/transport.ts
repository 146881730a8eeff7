import { createHash } from 'node:crypto';
import { basicHeader, parseChallenge, type RegistryCredential } from './auth.ts';
import { RegistryError } from './errors.ts';

export interface TransportOptions {
  /** Credentials per registry host (`ghcr.io`, `127.0.0.1:5000`). */
  credentials?: ReadonlyMap<string, RegistryCredential>;
  /** Hosts spoken to over plain HTTP (a local or in-cluster registry); every other host is HTTPS. */
  plainHttp?: readonly string[];
  fetch?: typeof fetch;
  /** Redirects followed per request (blob storage); 5 by default. */
  maxRedirects?: number;
}

export interface Fetched {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

const MAX_ERROR_BODY = 16 * 1024;
const MAX_TOKEN_BODY = 64 * 1024;

/** Reads a body up to `max` bytes, cancelling the stream past it. */
export async function readCapped(res: Response, max: number, what: string): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new RegistryError('tooLarge', `${what} is ${declared} bytes, over the ${max}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel().catch(() => undefined);
        throw new RegistryError('tooLarge', `${what} is over the ${max}-byte limit`);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks);
}

export const sha256Digest = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** Throws `digestMismatch` unless `bytes` hash to `digest` (sha256 only, the algorithm cosign and registries use). */
export function checkDigest(bytes: Uint8Array, digest: string, what: string): void {
  if (!digest.startsWith('sha256:')) throw new RegistryError('badReference', `${what}: digest algorithm of ${digest} is not supported`);
  const actual = sha256Digest(bytes);
  if (actual !== digest) throw new RegistryError('digestMismatch', `${what}: content hashes to ${actual}, not ${digest}`);
}

function failure(err: unknown, url: URL, signal: AbortSignal): RegistryError {
  if (err instanceof RegistryError) return err;
  if (signal.aborted) return new RegistryError('deadline', `${url.host}: deadline exceeded`, { cause: err });
  return new RegistryError('unreachable', `${url.host}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}`, { cause: err });
}

/**
 * HTTP to registries: authentication (anonymous first; on 401 a Bearer token from the challenge's realm, with basic
 * credentials when the host has some, or Basic directly), redirects followed by hand (to blob storage: the
 * Authorization header is dropped when the host changes), bodies capped. Tokens are cached per host and scope.
 */
export class RegistryTransport {
  private readonly tokens = new Map<string, { header: string; until: number }>();
  private readonly fetch: typeof fetch;
  constructor(private readonly options: TransportOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  baseUrl(host: string): string {
    const lower = host.toLowerCase();
    const h = lower === 'docker.io' ? 'registry-1.docker.io' : lower;
    return `${this.options.plainHttp?.includes(lower) ? 'http' : 'https'}://${h}`;
  }

  /** A GET or HEAD of `path` on `host`; 2xx and 404 come back, other statuses throw. */
  async request(host: string, path: string, init: { method?: 'GET' | 'HEAD'; accept?: string; scope: string; maxBytes: number; signal: AbortSignal }): Promise<Fetched> {
    const url = new URL(path, this.baseUrl(host));
    const cacheKey = `${host}\u0000${init.scope}`;
    let auth = this.tokens.get(cacheKey);
    if (auth && auth.until <= Date.now()) auth = undefined;
    try {
      let res = await this.follow(url, init, auth?.header);
      if (res.status === 401) {
        await res.body?.cancel().catch(() => undefined);
        const header = await this.authorize(host, url, res.headers.get('www-authenticate'), init.scope, init.signal);
        res = await this.follow(url, init, header);
      }
      if (res.status === 404) {
        await res.body?.cancel().catch(() => undefined);
        return { status: 404, headers: res.headers, body: new Uint8Array() };
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel().catch(() => undefined);
        throw new RegistryError('unauthorized', `${host}${url.pathname}: ${res.status} (credentials missing or refused)`);
      }
      if (res.status < 200 || res.status > 299) {
        const text = Buffer.from(await readCapped(res, MAX_ERROR_BODY, 'error body').catch(() => new Uint8Array())).toString('utf8').slice(0, 200);
        throw new RegistryError('badResponse', `${host}${url.pathname}: HTTP ${res.status} ${text}`.trim());
      }
      const body = init.method === 'HEAD' ? new Uint8Array() : await readCapped(res, init.maxBytes, `${host}${url.pathname}`);
      return { status: res.status, headers: res.headers, body };
    } catch (err) {
      throw failure(err, url, init.signal);
    }
  }

  private async follow(start: URL, init: { method?: 'GET' | 'HEAD'; accept?: string; signal: AbortSignal }, authorization: string | undefined): Promise<Response> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const sameHost = url.host === start.host;
      const headers: Record<string, string> = { ...(init.accept ? { accept: init.accept } : {}), ...(authorization && sameHost ? { authorization } : {}) };
      const res = await this.fetch(url, { method: init.method ?? 'GET', headers, redirect: 'manual', signal: init.signal });
      if (res.status < 300 || res.status > 399 || res.status === 304) return res;
      await res.body?.cancel().catch(() => undefined);
      const location = res.headers.get('location');
      if (!location || hop >= (this.options.maxRedirects ?? 5)) throw new RegistryError('badResponse', `${start.host}${start.pathname}: too many redirects or a redirect without Location`);
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && url.protocol === 'http:')) throw new RegistryError('badResponse', `${start.host}: refused redirect from ${url.protocol} to ${next.protocol}`);
      url = next;
    }
  }

  private async authorize(host: string, url: URL, header: string | null, scope: string, signal: AbortSignal): Promise<string> {
    const challenge = header ? parseChallenge(header) : undefined;
    const credential = this.options.credentials?.get(host.toLowerCase());
    if (challenge?.scheme === 'basic') {
      if (!credential) throw new RegistryError('unauthorized', `${host}${url.pathname}: the registry wants credentials and none are configured for ${host}`);
      const basic = basicHeader(credential);
      this.tokens.set(`${host}\u0000${scope}`, { header: basic, until: Date.now() + 3600_000 });
      return basic;
    }
    if (challenge?.scheme !== 'bearer' || !challenge.params.realm) throw new RegistryError('unauthorized', `${host}${url.pathname}: 401 without a usable WWW-Authenticate challenge`);
    const realm = new URL(challenge.params.realm);
    const plainOk = realm.protocol === 'http:' && realm.host === url.host && url.protocol === 'http:';
    if (realm.protocol !== 'https:' && !plainOk) throw new RegistryError('unauthorized', `${host}: token realm ${realm.origin} is not HTTPS`);
    if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
    realm.searchParams.set('scope', scope);
    const res = await this.fetch(realm, { headers: credential ? { authorization: basicHeader(credential) } : {}, redirect: 'error', signal });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new RegistryError('unauthorized', `${host}: token endpoint ${realm.host} answered ${res.status}`);
    }
    let token: { token?: string; access_token?: string; expires_in?: number };
    try {
      token = JSON.parse(Buffer.from(await readCapped(res, MAX_TOKEN_BODY, 'token')).toString('utf8'));
    } catch (err) {
      if (err instanceof RegistryError) throw err;
      throw new RegistryError('badResponse', `${host}: token endpoint answered no JSON`);
    }
    const value = token.token ?? token.access_token;
    if (typeof value !== 'string' || value === '') throw new RegistryError('badResponse', `${host}: token endpoint answered no token`);
    const bearer = `Bearer ${value}`;
    const seconds = typeof token.expires_in === 'number' && token.expires_in > 0 ? token.expires_in : 60;
    this.tokens.set(`${host}\u0000${scope}`, { header: bearer, until: Date.now() + Math.max(0, seconds - 10) * 1000 });
    if (this.tokens.size > 1000) this.tokens.delete(this.tokens.keys().next().value!);
    return bearer;
  }
}
