import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';

export interface OidcConfig {
  issuer: string;
  audience: string;
  /** Defaults to `${issuer}/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** Claim holding the tenant id. */
  tenantClaim: string;
  /** Claim holding role names (a list or a space-separated string). */
  rolesClaim: string;
  /**
   * The web console's OIDC client (authorization code flow with PKCE); without it the console takes pasted tokens
   * only. Its ID tokens name it as audience, so it is usually the audience above too.
   */
  client?: { id: string; secret?: string };
}

export interface OidcVerifier {
  config: OidcConfig;
  keys: JWTVerifyGetKey;
}

export function oidcVerifier(config: OidcConfig, keys?: JWTVerifyGetKey): OidcVerifier {
  return { config, keys: keys ?? createRemoteJWKSet(new URL(config.jwksUrl ?? `${config.issuer.replace(/\/$/, '')}/.well-known/jwks.json`)) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Verifies signature, issuer, audience and lifetime; answers undefined for any token we must not trust. */
export async function verifyOidcToken(verifier: OidcVerifier, token: string): Promise<{ tenantId: string; subject: string; roles: string[] } | undefined> {
  const { config } = verifier;
  try {
    const { payload } = await jwtVerify(token, verifier.keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
      clockTolerance: 30,
      requiredClaims: ['sub', 'exp'],
    });
    const tenantId = payload[config.tenantClaim];
    if (typeof tenantId !== 'string' || !UUID.test(tenantId) || typeof payload.sub !== 'string') return undefined;
    const raw = payload[config.rolesClaim];
    const roles = Array.isArray(raw) ? raw.filter((r): r is string => typeof r === 'string') : typeof raw === 'string' ? raw.split(/\s+/).filter(Boolean) : [];
    return { tenantId: tenantId.toLowerCase(), subject: payload.sub, roles };
  } catch {
    return undefined;
  }
}
