import { and, eq, inArray, isNull, lt, or } from 'drizzle-orm';
import type { MiddlewareHandler } from 'hono';
import { apiKeys, roles, tenants } from '../../schema/tables/index.ts';
import { BUILTIN_ROLES, type Right } from '../../schema/rights.ts';
import type { AppEnv } from '../app-env.ts';
import { bySecretHash, enterTenant, inTenant, type Db, type Tx } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { sha256Hex } from '../ids.ts';
import { verifyOidcToken, type OidcVerifier } from './oidc.ts';
import type { Principal } from './principal.ts';
import type { PrincipalCache } from './principal-cache.ts';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

const builtinRights = new Map(BUILTIN_ROLES.map((r) => [r.name, r.rights]));

/** A built-in role grants what this release says it does, so tenants created earlier gain rights added since. */
export const grantedRights = (role: { name: string; builtin: boolean; rights: readonly Right[] }): readonly Right[] =>
  role.builtin ? (builtinRights.get(role.name) ?? role.rights) : role.rights;

async function rightsOf(tx: Tx, where: ReturnType<typeof inArray>): Promise<Set<Right>> {
  const rows = await tx.select({ name: roles.name, builtin: roles.builtin, rights: roles.rights }).from(roles).where(where);
  return new Set(rows.flatMap(grantedRights));
}

async function principalFromApiKey(db: Db, secret: string, now: Date, cache?: PrincipalCache): Promise<Principal | undefined> {
  const hash = await sha256Hex(secret);
  const cached = cache?.get(hash, now.getTime());
  if (cached) return cached;
  const found = await bySecretHash(db, hash, async (tx) => {
    const [key] = await tx.select().from(apiKeys).where(eq(apiKeys.keyHash, hash));
    if (!key || key.revokedAt !== null || (key.expiresAt !== null && Date.parse(key.expiresAt) <= now.getTime())) return undefined;
    // Writes of last-used time are throttled to one a minute per key.
    await tx
      .update(apiKeys)
      .set({ lastUsedAt: now.toISOString() })
      .where(and(eq(apiKeys.keyHash, hash), or(isNull(apiKeys.lastUsedAt), lt(apiKeys.lastUsedAt, new Date(now.getTime() - 60_000).toISOString()))));
    await enterTenant(tx, key.tenantId);
    const rights = await rightsOf(tx, inArray(roles.id, key.spec.roleIds));
    return { principal: { tenantId: key.tenantId, subject: `apiKey:${key.id}`, rights }, expiresAt: key.expiresAt === null ? null : Date.parse(key.expiresAt) };
  });
  if (!found) return undefined;
  cache?.set(hash, found.principal, found.expiresAt, now.getTime());
  return found.principal;
}

async function principalFromOidc(db: Db, verifier: OidcVerifier, token: string): Promise<Principal | undefined> {
  const identity = await verifyOidcToken(verifier, token);
  if (!identity) return undefined;
  return inTenant(db, identity.tenantId, async (tx) => {
    const found = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, identity.tenantId));
    if (found.length === 0) return undefined;
    const rights = identity.roles.length === 0 ? new Set<Right>() : await rightsOf(tx, inArray(roles.name, identity.roles));
    return { tenantId: identity.tenantId, subject: `oidc:${identity.subject}`, rights };
  });
}

/** Who a bearer credential (an API key, or an OIDC token where configured) names; undefined when it is not valid. */
export function principalFor(db: Db, token: string, options: { oidc?: OidcVerifier; now: Date; cache?: PrincipalCache }): Promise<Principal | undefined> {
  return options.oidc && JWT.test(token) ? principalFromOidc(db, options.oidc, token) : principalFromApiKey(db, token, options.now, options.cache);
}

/**
 * Every `/v1` tenant route: 401 unless a valid API key or OIDC token names the tenant. With `cache`, an API key read
 * recently is not read again (see PrincipalCache for how stale that may be).
 */
export function authenticate(options: { oidc?: OidcVerifier; now?: () => Date; cache?: PrincipalCache }): MiddlewareHandler<AppEnv> {
  const now = options.now ?? (() => new Date());
  return async (c, next) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!token) throw new PalisadeError('unauthorized', 'send an API key or OIDC token as Authorization: Bearer <token>');
    const principal = await principalFor(c.get('db'), token, { oidc: options.oidc, now: now(), cache: options.cache });
    if (!principal) throw new PalisadeError('unauthorized', 'the credential is unknown, expired or revoked');
    c.set('principal', principal);
    await next();
  };
}
