import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { registerApiKeyRoutes } from '../access/api-keys.routes.ts';
import { registerRoleRoutes } from '../access/roles.routes.ts';
import type { AppEnv } from '../app-env.ts';
import { authenticate } from '../auth/authenticate.ts';
import type { OidcVerifier } from '../auth/oidc.ts';
import { registerClusterRoutes } from '../clusters/clusters.routes.ts';
import type { Database } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { notFoundOrNotAllowed } from '../http/method-not-allowed.ts';
import { onError } from '../http/problem.ts';
import { registerImageRoutes } from '../images/images.routes.ts';
import { registerDocsRoutes } from './openapi.routes.ts';
import { registerRuntimePolicyRoutes } from '../policies/policies.routes.ts';
import { registerRegistryRoutes } from '../registries/registries.routes.ts';
import { registerRuntimeProfileRoutes } from '../runtime-profiles/runtime-profiles.routes.ts';
import { registerScopeRoutes } from '../scopes/scopes.routes.ts';
import { registerFileThreatProtectionRoutes } from '../settings/file-threat-protection.routes.ts';
import { registerSignatureValidatorRoutes } from '../signature-validators/signature-validators.routes.ts';
import { registerTenantRoutes } from '../tenants/tenants.routes.ts';

export interface AppConfig {
  /** Platform operator credential for `POST /v1/tenants`; provisioning is off without it. */
  operatorKey?: string;
  /** Largest accepted request body. */
  maxBodyBytes?: number;
}

export interface AppDeps {
  database: Database;
  config: AppConfig;
  oidc?: OidcVerifier;
  now?: () => Date;
}

/** The one control-plane app; entry files give it a database and configuration for their runtime. */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.onError(onError);
  app.notFound(notFoundOrNotAllowed(app));

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  registerDocsRoutes(app);

  const maxSize = deps.config.maxBodyBytes ?? 1024 * 1024;
  app.use(
    '/v1/*',
    bodyLimit({ maxSize, onError: () => { throw new PalisadeError('payload_too_large', `the body exceeds ${maxSize} bytes`); } }),
    async (c, next) => {
      const handle = deps.database.open();
      c.set('db', handle.db);
      try {
        await next();
      } finally {
        const closing = handle.close();
        let background = false;
        try {
          c.executionCtx.waitUntil(closing);
          background = true;
        } catch {
          // no execution context outside Workers
        }
        if (!background) await closing;
      }
    },
  );

  registerTenantRoutes(app, deps.config.operatorKey);

  const tenantScoped = authenticate({ oidc: deps.oidc, now: deps.now });
  for (const prefix of ['/v1/scopes', '/v1/clusters', '/v1/runtime-profiles', '/v1/signature-validators', '/v1/registries', '/v1/images', '/v1/settings', '/v1/runtime-policies', '/v1/roles', '/v1/api-keys']) {
    app.use(prefix, tenantScoped);
    app.use(`${prefix}/*`, tenantScoped);
  }
  registerScopeRoutes(app);
  registerClusterRoutes(app);
  registerRuntimeProfileRoutes(app);
  registerSignatureValidatorRoutes(app);
  registerRegistryRoutes(app);
  registerImageRoutes(app);
  registerFileThreatProtectionRoutes(app);
  registerRuntimePolicyRoutes(app);
  registerRoleRoutes(app);
  registerApiKeyRoutes(app);
  return app;
}
