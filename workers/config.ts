import type { OidcConfig } from './auth/oidc.ts';
import type { AppConfig } from './app.ts';
import { deliveryRetentionDays } from './webhooks/retention.ts';

/** Reads settings from Worker bindings or process.env alike; both are string maps. */
export function configFromEnv(env: Record<string, unknown>): { app: AppConfig; oidc?: OidcConfig } {
  const str = (k: string) => (typeof env[k] === 'string' && env[k] !== '' ? (env[k] as string) : undefined);
  const issuer = str('PALISADE_OIDC_ISSUER');
  const audience = str('PALISADE_OIDC_AUDIENCE');
  return {
    app: {
      operatorKey: str('PALISADE_OPERATOR_KEY'),
      maxBodyBytes: str('PALISADE_MAX_BODY_BYTES') ? Number(str('PALISADE_MAX_BODY_BYTES')) : undefined,
      maxSignatureSetBytes: str('PALISADE_MAX_SIGNATURE_SET_BYTES') ? Number(str('PALISADE_MAX_SIGNATURE_SET_BYTES')) : undefined,
      // Development only: webhook receivers on loopback addresses (and over http). Never set it in production.
      webhooks: {
        allowLoopback: str('PALISADE_WEBHOOKS_ALLOW_LOOPBACK') === 'true',
        // Whole days, at least 1; anything else refuses to start rather than prune the wrong deliveries.
        deliveryRetentionDays: str('PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS') ? deliveryRetentionDays(Number(str('PALISADE_WEBHOOK_DELIVERY_RETENTION_DAYS'))) : undefined,
      },
      // Development only: registries on loopback addresses (and over http) for sync. Never set it in production.
      registries: { allowLoopback: str('PALISADE_REGISTRIES_ALLOW_LOOPBACK') === 'true' },
    },
    oidc:
      issuer && audience
        ? {
            issuer,
            audience,
            jwksUrl: str('PALISADE_OIDC_JWKS_URL'),
            tenantClaim: str('PALISADE_OIDC_TENANT_CLAIM') ?? 'palisade_tenant',
            rolesClaim: str('PALISADE_OIDC_ROLES_CLAIM') ?? 'palisade_roles',
            // The console's sign-in through the provider (authorization code + PKCE).
            ...(str('PALISADE_OIDC_CLIENT_ID') ? { client: { id: str('PALISADE_OIDC_CLIENT_ID')!, secret: str('PALISADE_OIDC_CLIENT_SECRET') } } : {}),
          }
        : undefined,
  };
}
