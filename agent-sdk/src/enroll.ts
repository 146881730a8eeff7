import { z } from 'zod';
import type { JWKS } from './bundle/jws.ts';
import { TrustAnchor } from './trust-anchor.ts';
import { callJson } from './json-call.ts';

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
  const { url, token, ...rest } = options;
  const enrolled = await callJson({ ...rest, url, path: '/v1/agent/enroll', method: 'POST', body: { token }, schema: EnrollResponse, what: 'enrollment' });
  return { ...enrolled, jwks: enrolled.jwks as JWKS };
}

const RotateResponse = z.object({ credential: z.string().min(1), previousCredentialExpiresAt: z.string() });

/** A new agent credential; the one it replaces keeps working until `previousCredentialExpiresAt` (ISO 8601). */
export interface RotatedCredential {
  /** Secret. */
  credential: string;
  previousCredentialExpiresAt: string;
}

/**
 * Swaps the agent's credential for a new one (`POST /v1/agent/credentials/rotate`). Store the new one before the
 * overlap ends; the control plane has already shortened the old one's life.
 *
 * @example
 * ```ts
 * const { credential } = await rotateCredential({ url, credential: current });
 * await writeFileAtomic(credentialFile, credential + '\n', 0o600);
 * ```
 */
export function rotateCredential(options: { url: string; credential: string; fetch?: typeof fetch; timeoutMs?: number }): Promise<RotatedCredential> {
  return callJson({ ...options, path: '/v1/agent/credentials/rotate', method: 'POST', schema: RotateResponse, what: 'credential rotation' });
}
