import type { Hono } from 'hono';
import { TenantInput } from '../../schema/access.ts';
import type { AppEnv } from '../app-env.ts';
import { bearerToken } from '../auth/authenticate.ts';
import { readJson, validate } from '../http/body.ts';
import { PalisadeError } from '../http/errors.ts';
import { sha256Hex } from '../ids.ts';
import { provisionTenant } from './tenants.store.ts';

/** Compares hashes so the time taken says nothing about how much of the key matched. */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([sha256Hex(given), sha256Hex(expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Platform operator: `POST /v1/tenants` with PALISADE_OPERATOR_KEY. Without that setting the route answers 401 to everyone. */
export function registerTenantRoutes(app: Hono<AppEnv>, operatorKey: string | undefined): void {
  app.post('/v1/tenants', async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    if (!operatorKey || !token || !(await sameSecret(token, operatorKey))) {
      throw new PalisadeError('unauthorized', 'tenant provisioning needs the platform operator key');
    }
    const input = await validate(TenantInput, await readJson(c));
    const created = await provisionTenant(c.get('db'), { name: input.name, by: 'operator' });
    c.header('Location', `/v1/tenants/${created.tenant.id}`);
    return c.json(created, 201);
  });
}
