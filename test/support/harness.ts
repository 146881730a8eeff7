import { eq } from 'drizzle-orm';
import { apiKeys } from '../../schema/tables/index.ts';
import { createApp, type AppDeps } from '../../workers/app.ts';
import { sha256Hex } from '../../workers/ids.ts';
import { generateSigningKey, type KeyRing } from '../../workers/bundles/signing-keys.ts';
import type { Database } from '../../workers/db/db.ts';

export const OPERATOR_KEY = 'operator-test-key';

export interface TenantClient {
  id: string;
  name: string;
  key: string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  json<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
}

export interface Harness {
  app: ReturnType<typeof createApp>;
  tenant(name: string): Promise<TenantClient>;
  /** A client for an existing tenant with another key (e.g. one holding fewer rights). */
  as(tenant: TenantClient, key: string): TenantClient;
}

/** One signing key for the whole test file; tests of rotation build their own rings. */
export const testKeys: KeyRing = { current: (await generateSigningKey()).key, previous: [] };
export const TEST_ISSUER = 'https://palisade.test';

export function harness(database: Database, extra: Partial<AppDeps> = {}): Harness {
  const app = createApp({ ...extra, database, signing: extra.signing ?? { issuer: TEST_ISSUER, keys: testKeys }, config: { operatorKey: OPERATOR_KEY, ...extra.config } });

  function client(id: string, name: string, key: string): TenantClient {
    const request = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
      Promise.resolve(
        app.request(path, {
          method,
          headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
          body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
        }),
      );
    return {
      id,
      name,
      key,
      request,
      async json(method, path, body, headers) {
        const res = await request(method, path, body, headers);
        const text = await res.text();
        return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
      },
    };
  }

  return {
    app,
    async tenant(name) {
      const res = await app.request('/v1/tenants', {
        method: 'POST',
        headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (res.status !== 201) throw new Error(`provisioning ${name} failed: ${res.status} ${await res.text()}`);
      const created = (await res.json()) as { tenant: { id: string; name: string }; apiKey: string };
      return client(created.tenant.id, name, created.apiKey);
    },
    as: (tenant, key) => client(tenant.id, tenant.name, key),
  };
}

/** Creates an API key holding only the given built-in or custom role names; returns its secret. */
export async function keyWithRoles(admin: TenantClient, roleNames: string[]): Promise<string> {
  const roles = await admin.json('GET', '/v1/roles?limit=200');
  const ids = roleNames.map((n) => {
    const role = roles.body.items.find((r: { name: string }) => r.name === n);
    if (!role) throw new Error(`no role ${n}`);
    return role.id as string;
  });
  const created = await admin.json('POST', '/v1/api-keys', { name: `key-${roleNames.join('-')}-${Math.random().toString(36).slice(2, 8)}`, roleIds: ids });
  if (created.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(created.body)}`);
  return created.body.secret as string;
}

/** A role with exactly these rights, and a key holding it. */
export async function keyWithRights(admin: TenantClient, rights: string[]): Promise<string> {
  const name = `role-${Math.random().toString(36).slice(2, 10)}`;
  const role = await admin.json('POST', '/v1/roles', { name, rights });
  if (role.status !== 201) throw new Error(`role creation failed: ${JSON.stringify(role.body)}`);
  return keyWithRoles(admin, [name]);
}

/** How a key is named as createdBy/updatedBy/changedBy (`apiKey:<id>`), looked up by its hash as the database owner. */
export async function apiKeySubject(database: Database, secret: string): Promise<string> {
  const { db } = database.open();
  const [row] = await db.select({ id: apiKeys.id }).from(apiKeys).where(eq(apiKeys.keyHash, await sha256Hex(secret)));
  if (!row) throw new Error('no such key');
  return `apiKey:${row.id}`;
}
