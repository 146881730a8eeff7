import type { MiddlewareHandler } from 'hono';
import type { Right } from '../../schema/rights.ts';
import { PalisadeError } from '../http/errors.ts';
import type { AppEnv } from '../app-env.ts';

/** Who is calling, taken only from a verified credential. */
export interface Principal {
  tenantId: string;
  /** Recorded as createdBy/updatedBy/changedBy: `apiKey:<key id>` or `oidc:<sub>`, never any part of a secret. */
  subject: string;
  rights: ReadonlySet<Right>;
}

export function requireRight(...rights: Right[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    const missing = rights.filter((r) => !principal.rights.has(r));
    if (missing.length > 0) throw new PalisadeError('forbidden', `this needs the right ${missing.join(', ')}`, { extensions: { missingRights: missing } });
    await next();
  };
}
