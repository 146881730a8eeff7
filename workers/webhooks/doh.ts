import type { Resolve } from './ssrf.ts';

/**
 * A resolver over DNS-over-HTTPS (the JSON API of Cloudflare's and Google's resolvers), for runtimes without a DNS
 * API such as Workers. Answers the A and AAAA addresses of a name; CNAME chains are followed by the resolver.
 */
export function dohResolver(fetchFn: typeof fetch, endpoint = 'https://cloudflare-dns.com/dns-query', timeoutMs = 5000): Resolve {
  const query = async (hostname: string, type: 'A' | 'AAAA'): Promise<string[]> => {
    const url = `${endpoint}?name=${encodeURIComponent(hostname)}&type=${type}`;
    const res = await fetchFn(url, { headers: { accept: 'application/dns-json' }, signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) throw new Error(`the DNS-over-HTTPS resolver answered ${res.status}`);
    const body = (await res.json()) as { Status?: number; Answer?: Array<{ type?: number; data?: string }> };
    // 0: NOERROR, 3: NXDOMAIN (no addresses); anything else is a failure to resolve.
    if (body.Status !== 0 && body.Status !== 3) throw new Error(`DNS status ${body.Status}`);
    const wanted = type === 'A' ? 1 : 28;
    return (body.Answer ?? []).filter((a) => a.type === wanted && typeof a.data === 'string').map((a) => a.data!);
  };
  return async (hostname) => {
    const [v4, v6] = await Promise.all([query(hostname, 'A'), query(hostname, 'AAAA')]);
    return [...v4, ...v6];
  };
}
