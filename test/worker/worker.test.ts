import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';

describe.skipIf(skipWithoutPostgres('test/worker/worker.test.ts'))('the Workers bundle in Miniflare', () => {
  let worker: BootedWorker | undefined;
  const call: BootedWorker['call'] = (...args) => worker!.call(...args);

  beforeAll(async () => {
    worker = await bootWorker();
    await worker.tenant('acme');
  }, 180_000);

  afterAll(() => worker?.close());

  it('runs a runtime-policy CRUD round trip on Postgres through the Neon driver', async () => {
    const before = worker!.pgdb.proxy.connections;
    const scope = await call('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    expect(scope.status).toBe(201);
    const created = await call('POST', '/v1/runtime-policies', { name: 'baseline', mode: 'audit', scopeIds: [scope.body.id] });
    expect(created.status).toBe(201);
    const path = `/v1/runtime-policies/${created.body.id}`;
    const got = await call('GET', path);
    expect(got.body).toEqual(created.body);
    const etag = got.headers.get('etag')!;
    const updated = await call('PUT', path, { name: 'baseline', mode: 'enforce', scopeIds: [scope.body.id] }, { 'if-match': etag });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ mode: 'enforce', revision: 2 });
    expect((await call('PATCH', path, { enabled: false }, { 'if-match': etag })).status).toBe(412);
    const list = await call('GET', '/v1/runtime-policies');
    expect(list.body.items.map((p: { id: string; mode: string }) => [p.id, p.mode])).toEqual([[created.body.id, 'enforce']]);
    expect((await call('DELETE', path)).status).toBe(204);
    expect((await call('GET', path)).status).toBe(404);
    // a Pool per request, each over a WebSocket through the local proxy
    expect(worker!.pgdb.proxy.connections - before).toBeGreaterThanOrEqual(8);
  });

  it('answers problem+json for a missing credential (401) and an unknown route (404)', async () => {
    const res = await worker!.mf.dispatchFetch('http://palisade.test/v1/runtime-policies');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    const unknown = await call('GET', '/v1/no-such-thing');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
    expect(unknown.body).toMatchObject({ status: 404 });
  });
});
