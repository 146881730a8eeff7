import { z } from 'zod';
import type { JWKS } from './bundle/jws.ts';
import { ControlPlaneError, endpoint, readLimited, responseError, withDeadline } from './bundle/http.ts';
import { formatIssues, TrustAnchor } from './config.ts';

const EnrollResponse = z.object({
  clusterId: z.string().min(1),
  tenantId: z.uuid(),
  issuer: z.string().min(1),
  credential: z.string().min(1),
  jwks: TrustAnchor,
});

export interface Enrollment {
  clusterId: string;
  tenantId: string;
  issuer: string;
  /** Secret: the agent's bearer credential. */
  credential: string;
  /** The trust anchor for bundles, as published at enrollment (over the TLS connection the token was sent on). */
  jwks: JWKS;
}

/**
 * Exchanges a one-time enrollment token for the agent's credential and trust anchor (`POST /v1/agent/enroll`).
 *
 * @example
 * ```ts
 * const enrollment = await enroll({ url: 'https://palisade.example.com', token: process.env.PALISADE_TOKEN! });
 * console.log(`enrolled as cluster ${enrollment.clusterId}`);
 * ```
 */
export async function enroll(options: { url: string; token: string; fetch?: typeof fetch; timeoutMs?: number }): Promise<Enrollment> {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const body = await withDeadline(options.timeoutMs ?? 30_000, undefined, async (signal) => {
    const res = await doFetch(endpoint(options.url, '/v1/agent/enroll'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ token: options.token }),
      signal,
      redirect: 'error',
    });
    if (res.status !== 201 && res.status !== 200) throw await responseError(res, 'enrollment');
    return new TextDecoder().decode(await readLimited(res.body, 1024 * 1024));
  });
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (cause) {
    throw new ControlPlaneError('http_error', 'enrollment: the answer is not JSON', { cause });
  }
  const parsed = EnrollResponse.safeParse(json);
  if (!parsed.success) throw new ControlPlaneError('http_error', `enrollment: unexpected answer: ${formatIssues(parsed.error)}`, { cause: parsed.error });
  return { ...parsed.data, jwks: parsed.data.jwks as JWKS };
}
