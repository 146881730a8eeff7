import { classifyAddress, type AddressClass } from './ip.ts';

/**
 * The SSRF guard: a webhook may reach only public addresses over https. Checked without DNS when an endpoint is
 * written (a clear 422 for obvious mistakes), and after DNS resolution before every attempt (what counts). The
 * development setting `allowLoopback` also lets `http:` reach loopback receivers (127.0.0.0/8, ::1, localhost), and
 * nothing else. Resolution is injected: node:dns on Node, DNS-over-HTTPS on Workers (entry files). Redirects are
 * never followed, so a public receiver cannot bounce us.
 *
 * DNS rebinding (a name answering a public address to the check and a private one to the connection): on Node the
 * dispatcher's fetch resolves again at connect time through `resolvePermitted` and connects only to addresses it
 * permits (`pinnedFetch` in workers/node.ts). Workers cannot pin a fetch to an address; there we rely on the
 * platform refusing subrequests to private and reserved ranges (see workers/worker.ts).
 */
export type Resolve = (hostname: string) => Promise<string[]>;

export interface GuardOptions {
  allowLoopback: boolean;
}

/** Cloud instance-metadata names; their addresses are refused anyway, the names are refused before any lookup. */
const METADATA_HOSTS = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'metadata.azure.internal',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
  'metadata.oraclecloud.com',
]);

export class RefusedDestination extends Error {
  override readonly name = 'RefusedDestination';
}

const DESCRIBE: Record<AddressClass, string> = {
  public: 'a public address',
  loopback: 'a loopback address',
  private: 'a private address',
  cgnat: 'a shared (CGNAT) address',
  linkLocal: 'a link-local or metadata address',
  uniqueLocal: 'a unique-local address',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  reserved: 'a reserved address',
};

const permitted = (cls: AddressClass, opts: GuardOptions, http: boolean) => (http ? cls === 'loopback' && opts.allowLoopback : cls === 'public' || (cls === 'loopback' && opts.allowLoopback));

interface Target {
  url: URL;
  host: string;
  http: boolean;
  literal: AddressClass | undefined;
}

/** Everything that can be judged without DNS; answers the parsed target, or throws RefusedDestination. */
function inspect(raw: string, opts: GuardOptions): Target {
  const url = URL.parse(raw);
  if (!url) throw new RefusedDestination('is not a URL');
  if (url.username || url.password) throw new RefusedDestination('must not hold credentials');
  const http = url.protocol === 'http:';
  if (url.protocol !== 'https:' && !(http && opts.allowLoopback)) throw new RefusedDestination('must use https');
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  const literal = classifyAddress(host);
  if (literal !== undefined) {
    if (!permitted(literal, opts, http)) throw new RefusedDestination(`must not point at ${DESCRIBE[literal]} (${host})`);
    return { url, host, http, literal };
  }
  if (host === '' || METADATA_HOSTS.has(host)) throw new RefusedDestination(`must not point at a metadata service (${host})`);
  const localhost = host === 'localhost' || host.endsWith('.localhost');
  if (localhost && !opts.allowLoopback) throw new RefusedDestination(`must not point at ${DESCRIBE.loopback} (${host})`);
  if (http && !localhost) throw new RefusedDestination('must use https (http is allowed for loopback receivers only)');
  return { url, host, http, literal };
}

/** Write-time check, without DNS: the reason the URL is refused, or undefined. */
export function urlProblem(raw: string, opts: GuardOptions): string | undefined {
  try {
    inspect(raw, opts);
    return undefined;
  } catch (err) {
    if (err instanceof RefusedDestination) return err.message;
    throw err;
  }
}

/**
 * Resolves `host` and answers its addresses, or refuses (RefusedDestination) unless there are some and every one is
 * permitted. The guard's send-time check, and on Node the connect-time lookup too: the connection goes only to what
 * this answered.
 */
export async function resolvePermitted(host: string, opts: GuardOptions & { resolve: Resolve; http: boolean }): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await opts.resolve(host);
  } catch (err) {
    throw new RefusedDestination(`${host} does not resolve: ${(err as Error).message}`);
  }
  if (addresses.length === 0) throw new RefusedDestination(`${host} does not resolve`);
  for (const address of addresses) {
    const cls = classifyAddress(address);
    if (cls === undefined) throw new RefusedDestination(`${host} resolves to something that is not an address (${address})`);
    if (!permitted(cls, opts, opts.http)) throw new RefusedDestination(`${host} resolves to ${DESCRIBE[cls]} (${address})`);
  }
  return addresses;
}

/** Send-time check: refuses (RefusedDestination) unless every address the host resolves to is permitted. */
export async function guardDestination(raw: string, opts: GuardOptions & { resolve: Resolve }): Promise<URL> {
  const target = inspect(raw, opts);
  if (target.literal === undefined) await resolvePermitted(target.host, { ...opts, http: target.http });
  return target.url;
}
