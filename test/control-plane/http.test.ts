import { describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { withTenants } from '../support/resource-checks.ts';

const { database, h, acme } = await withTenants('acme');

const scope = { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod' }] };

async function read(res: Response) {
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.body).toMatchObject({ type: expect.stringMatching(/^https:\/\//), title: expect.any(String), status, detail: expect.any(String) });
}

describe('runtime', () => {
  it('runs on Node 22 or newer', () => {
    const major = Number(process.versions.node.split('.')[0]);
    expect(major, `running on Node ${process.versions.node}`).toBeGreaterThanOrEqual(22);
  });
});

describe('HTTP conventions', () => {
  it('answers GET /healthz without credentials', async () => {
    const res = await read(await h.app.request('/healthz'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ status: 'ok' });
    expect((await h.app.request('/healthz', { method: 'HEAD' })).status).toBe(200);
  });

  it('answers 404 problem+json for unknown routes', async () => {
    // `/` is the web console (it redirects to its first page).
    for (const path of ['/nope', '/v1', '/v1/nope', '/v2/scopes', '/v1/scopes/a/b/c', '/healthz/x']) {
      const res = await read(await h.app.request(path, { headers: { authorization: `Bearer ${acme.key}` } }));
      expectProblem(res, 404);
      expect(res.body.instance, path).toBe(path);
    }
    expectProblem(await read(await h.app.request('/v1/nope', { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })), 404);
    // An unknown id on a known route is a 404 from the route itself.
    expectProblem(await acme.json('GET', '/v1/scopes/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b'), 404);
  });

  it('answers 405 with Allow for a wrong method on a known path', async () => {
    const cases: Array<[string, string, string[]]> = [
      ['DELETE', '/v1/scopes', ['GET', 'HEAD', 'POST']],
      ['PUT', '/v1/runtime-policies', ['GET', 'HEAD', 'POST']],
      ['POST', '/v1/scopes/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
      ['DELETE', '/v1/runtime-policies/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/revisions', ['GET', 'HEAD']],
      ['POST', '/healthz', ['GET', 'HEAD']],
      ['GET', '/v1/tenants', ['POST']],
    ];
    for (const [method, path, allowed] of cases) {
      const res = await read(await h.app.request(path, { method, headers: { authorization: `Bearer ${acme.key}` } }));
      expectProblem(res, 405);
      const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim()).sort();
      expect(allow, `${method} ${path}`).toEqual(allowed);
    }
  });

  it('answers 413 for a body over the limit', async () => {
    const small = harness(database, { config: { maxBodyBytes: 512 } });
    const client = await small.tenant('small-bodies');
    const big = { ...scope, description: 'x'.repeat(600) };
    const res = await client.json('POST', '/v1/scopes', big);
    expectProblem(res, 413);
    // with Content-Length given, and with a streamed body without one
    const json = JSON.stringify(big);
    const withLength = await read(
      await small.app.request('/v1/scopes', { method: 'POST', body: json, headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/json', 'content-length': String(json.length) } }),
    );
    expectProblem(withLength, 413);
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 10; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? json : ' '.repeat(100)));
        controller.close();
      },
    });
    const streamed = await read(
      await small.app.request('/v1/scopes', { method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${client.key}`, 'content-type': 'application/json' } } as RequestInit),
    );
    expectProblem(streamed, 413);
    expect((await client.json('GET', '/v1/scopes?name=prod')).body.items).toEqual([]);
    // Under the limit all is well, and tenant provisioning is limited too.
    expect((await client.json('POST', '/v1/scopes', scope)).status).toBe(201);
    const provisioning = await read(
      await small.app.request('/v1/tenants', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(600) }), headers: { authorization: 'Bearer operator-test-key', 'content-type': 'application/json' } }),
    );
    expectProblem(provisioning, 413);
  });

  it('answers 415 for a body that is not JSON', async () => {
    const json = JSON.stringify(scope);
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx', 'text/json', '']) {
      const res = await read(await h.app.request('/v1/scopes', { method: 'POST', body: json, headers: { authorization: `Bearer ${acme.key}`, 'content-type': type } }));
      expectProblem(res, 415);
    }
    // A merge patch only as application/merge-patch+json or application/json.
    const created = await acme.json('POST', '/v1/scopes', { ...scope, name: 'patched' });
    expectProblem(await acme.json('PATCH', `/v1/scopes/${created.body.id}`, { description: 'x' }, { 'content-type': 'application/json-patch+json' }), 415);
    expect((await acme.json('PATCH', `/v1/scopes/${created.body.id}`, { description: 'x' }, { 'content-type': 'application/merge-patch+json; charset=utf-8' })).status).toBe(200);
    expect((await acme.json('POST', '/v1/scopes', { ...scope, name: 'charset' }, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
    expect((await acme.json('GET', '/v1/scopes?name=prod')).body.items).toEqual([]);
  });

  it('answers 400 for malformed JSON', async () => {
    for (const body of ['{', '{"name":', "{'name':'x'}", 'nul', '{"a":1}}', '\u0000', '']) {
      const res = await acme.json('POST', '/v1/scopes', body, { 'content-type': 'application/json' });
      expectProblem(res, 400);
    }
    const created = await acme.json('POST', '/v1/scopes', { ...scope, name: 'malformed' });
    expectProblem(await acme.json('PUT', `/v1/scopes/${created.body.id}`, '[1,', { 'content-type': 'application/json' }), 400);
    expectProblem(await acme.json('PATCH', `/v1/scopes/${created.body.id}`, '{"description":', { 'content-type': 'application/merge-patch+json' }), 400);
  });

  it('answers 422 with a JSON Pointer per invalid member', async () => {
    const res = await acme.json('POST', '/v1/runtime-policies', {
      name: ' padded ',
      mode: 'enforce',
      scopeIds: ['not-a-uuid'],
      volumesBlocked: { enabled: true, paths: ['relative/path'] },
      'we/ird~key': true,
    });
    expectProblem(res, 422);
    expect(res.body.errors).toEqual(
      expect.arrayContaining([
        { pointer: '/name', detail: expect.any(String) },
        { pointer: '/scopeIds/0', detail: expect.any(String) },
        { pointer: '/volumesBlocked/paths/0', detail: expect.stringContaining('/') },
        { pointer: '/we~1ird~0key', detail: 'unknown field' },
      ]),
    );
    expect(res.body.errors).toHaveLength(4);
    for (const body of [[], 'a string', 42, null, true]) {
      const top = await acme.json('POST', '/v1/scopes', JSON.stringify(body), { 'content-type': 'application/json' });
      expectProblem(top, 422);
      expect(top.body.errors, JSON.stringify(body)).toEqual([{ pointer: '', detail: expect.any(String) }]);
    }
  });

  it('answers 400 naming the parameter for bad query parameters', async () => {
    for (const query of ['limit=abc', 'limit=1000', 'cursor=%%%', 'colour=blue']) {
      const res = await read(await h.app.request(`/v1/scopes?${query}`, { headers: { authorization: `Bearer ${acme.key}` } }));
      expectProblem(res, 400);
      expect(res.body.errors[0].parameter, query).toBe(query.split('=')[0]);
    }
  });

  it('refuses text Postgres cannot store instead of failing', async () => {
    const created = await acme.json('POST', '/v1/scopes', { ...scope, name: 'unstorable' });
    for (const value of ['nul \u0000 inside', 'lone \ud800 surrogate', 'trailing low \udc00']) {
      for (const [method, path] of [['POST', '/v1/scopes'], ['PUT', `/v1/scopes/${created.body.id}`], ['PATCH', `/v1/scopes/${created.body.id}`]] as const) {
        const res = await acme.json(method, path, { ...(method === 'PATCH' ? {} : scope), description: value });
        expectProblem(res, 422);
        expect(res.body.errors, `${method} ${JSON.stringify(value)}`).toEqual([{ pointer: '/description', detail: expect.any(String) }]);
      }
      const key = await acme.json('POST', '/v1/scopes', { ...scope, [`x${value}`]: 1 });
      expectProblem(key, 422);
    }
    // A well-formed surrogate pair is fine.
    const emoji = await acme.json('PATCH', `/v1/scopes/${created.body.id}`, { description: 'prod 🚀 ünïcödé' });
    expect(emoji.status).toBe(200);
    expect(emoji.body.description).toBe('prod 🚀 ünïcödé');
    // And in a query parameter: 400, not a database failure.
    for (const path of ['/v1/scopes?name=%00', '/v1/runtime-policies?name=a%00*', '/v1/registries?url=%00']) {
      const res = await read(await h.app.request(path, { headers: { authorization: `Bearer ${acme.key}` } }));
      expectProblem(res, 400);
    }
  });

  it('refuses documents nested absurdly deep', async () => {
    const depth = 100_000;
    const deepArray = '['.repeat(depth) + ']'.repeat(depth);
    const deepObject = '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
    const created = await acme.json('POST', '/v1/scopes', { ...scope, name: 'deep' });
    for (const deep of [deepArray, deepObject]) {
      for (const [method, path, type] of [
        ['POST', '/v1/scopes', 'application/json'],
        ['PUT', `/v1/scopes/${created.body.id}`, 'application/json'],
        ['PATCH', `/v1/scopes/${created.body.id}`, 'application/merge-patch+json'],
      ] as const) {
        const res = await acme.json(method, path, `{"description":${deep}}`, { 'content-type': type });
        expectProblem(res, 422);
        expect(res.body.errors, `${method} ${deep.slice(0, 5)}`).toEqual([{ pointer: expect.stringMatching(/^\/description\//), detail: expect.stringMatching(/deeper/) }]);
      }
    }
    const after = await acme.json('GET', `/v1/scopes/${created.body.id}`);
    expect(after.body).toMatchObject({ name: 'deep' });
    expect(after.body.description).toBeUndefined();
  });
});
