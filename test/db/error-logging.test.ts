import { Hono } from 'hono';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiKeys } from '../../schema/tables/index.ts';
import { inTenant } from '../../workers/db/db.ts';
import { loggableError } from '../../workers/db/errors.ts';
import { onError } from '../../workers/http/problem.ts';
import { startDispatchLoop } from '../../workers/webhooks/dispatch-loop.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
const SECRET = 'sekrit-4f1b9c2d7e8a6b5c3d2e1f0a9b8c7d6e';

beforeAll(async () => {
  acme = await h.tenant('acme');
});

/** An insert that fails in the database (a duplicate name) while carrying a secret among its parameters. */
const failingInsert = () =>
  inTenant(database.db, acme.id, (tx) =>
    tx.insert(apiKeys).values({ tenantId: acme.id, id: '01900000-0000-7000-8000-0000000000aa', name: 'initial administrator key', spec: { name: 'x', roleIds: [] }, keyHash: SECRET, createdBy: SECRET, updatedBy: 'x' }),
  );

function captureLogs() {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.map((a) => (a instanceof Error ? `${a.stack} ${JSON.stringify(a)} ${String((a as { cause?: unknown }).cause)}` : typeof a === 'string' ? a : JSON.stringify(a))).join(' ')));
  return { text: () => lines.join('\n'), restore: () => spy.mockRestore() };
}
afterEach(() => vi.restoreAllMocks());

describe('database errors in the logs', () => {
  it('a failing insert logged by the HTTP error handler names code and constraint, never its parameters', async () => {
    const app = new Hono();
    app.onError(onError);
    app.post('/x', async () => {
      await failingInsert();
      return new Response(null);
    });
    const logs = captureLogs();
    const res = await app.request('/x', { method: 'POST' });
    logs.restore();
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain(SECRET);
    expect(logs.text()).toContain('23505');
    expect(logs.text()).toContain('api_keys_tenant_name');
    expect(logs.text()).not.toContain(SECRET);
    expect(logs.text()).not.toContain(SECRET.slice(0, 12));
  });

  it('the webhook dispatcher loop logs a failing pass the same way', async () => {
    const logs = captureLogs();
    let passes = 0;
    const loop = startDispatchLoop(async () => {
      passes++;
      await failingInsert();
      return { attempted: 0, delivered: 0, more: false };
    }, { intervalMs: 60_000 });
    for (let i = 0; i < 400 && passes === 0; i++) await new Promise((r) => setTimeout(r, 25));
    await loop.stop();
    logs.restore();
    expect(logs.text()).toContain('23505');
    expect(logs.text()).not.toContain(SECRET);
  });

  it('loggableError keeps what identifies the failure and drops values from the message', async () => {
    const err = await failingInsert().catch((e: unknown) => e);
    const line = loggableError(err);
    expect(line).toMatch(/23505/);
    expect(line).not.toContain(SECRET);
    const typed = await inTenant(database.db, acme.id, (tx) => tx.select().from(apiKeys).where(sqlEqUuid(SECRET))).catch((e: unknown) => e);
    expect(loggableError(typed)).toMatch(/22P02/);
    expect(loggableError(typed)).not.toContain(SECRET);
    expect(loggableError(new Error('plain'))).toContain('plain');
  });
});

import { eq } from 'drizzle-orm';
const sqlEqUuid = (v: string) => eq(apiKeys.id, v);
