import { afterAll, beforeAll, expect } from 'vitest';
import { harness, keyWithRights, type Harness, type TenantClient } from './harness.ts';
import { testPglite } from './pglite.ts';

export const PROBLEM = 'application/problem+json';

/** A response as `TenantClient.json` answers it. */
export interface JsonResponse {
  status: number;
  headers: Headers;
  body: any;
}

/** The JSON pointers of a problem's errors, sorted. */
export const pointers = (res: { body: { errors?: Array<{ pointer?: string }> } }) => (res.body.errors ?? []).map((e) => e.pointer).sort();

/** The names of a list's items, in order. */
export const names = (res: { body: { items: Array<{ name: string }> } }) => res.body.items.map((c) => c.name);

/** POSTs `body` to the collection `path` and answers the response, which must be a 201 (or this throws, with the body). */
export async function mustCreate(client: TenantClient, path: string, body: unknown): Promise<JsonResponse> {
  const res = await client.json('POST', path, body);
  if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/**
 * POSTs `body` to the collection `path` as `owner` and checks the new object: 201 with its Location and ETag "1", the
 * document `stored` (what was sent, unless given) with the id and the server's metadata (created and updated by this
 * API key), and the same object and ETag on a GET. Answers the POST's response.
 */
export async function expectCreated(owner: TenantClient, path: string, body: unknown, stored: unknown = body): Promise<JsonResponse> {
  const created = await owner.json('POST', path, body);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const id = created.body.id as string;
  expect(created.headers.get('location')).toBe(`${path}/${id}`);
  expect(created.headers.get('etag')).toBe('"1"');
  expect(created.body).toEqual({
    id,
    ...(stored as object),
    createdAt: expect.any(String),
    updatedAt: expect.any(String),
    createdBy: expect.stringMatching(/^apiKey:/),
    updatedBy: created.body.createdBy,
  });

  const got = await owner.json('GET', `${path}/${id}`);
  expect(got.status).toBe(200);
  expect(got.body).toEqual(created.body);
  expect(got.headers.get('etag')).toBe('"1"');
  return created;
}

/** An RFC 9457 problem: the status (with the body in the message), problem+json, and a body with status, type and title. */
export function expectProblem(res: JsonResponse, status: number, label?: string): void {
  const prefix = label === undefined ? '' : `${label}: `;
  expect(res.status, prefix + JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type'), label).toBe(PROBLEM);
  expect(res.body, label).toMatchObject({ status, type: expect.any(String), title: expect.any(String) });
}

type TestDatabase = Awaited<ReturnType<typeof testPglite>>;

/** Stands for the client of a tenant that beforeAll provisions: tests use it as they would the client itself. */
function provisionedInBeforeAll(name: string, get: () => TenantClient | undefined): TenantClient {
  const client = () => {
    const provisioned = get();
    if (!provisioned) throw new Error(`tenant ${name} is provisioned in beforeAll: use it in tests and hooks only`);
    return provisioned;
  };
  return {
    get id() {
      return client().id;
    },
    name,
    get key() {
      return client().key;
    },
    request: (...args) => client().request(...args),
    json: (...args) => client().json(...args),
  };
}

/**
 * The preamble of a control-plane test file: a fresh migrated PGlite (closed in afterAll), a harness on it and one
 * tenant per name, provisioned in beforeAll (registered here, so before the file's own beforeAll hooks run).
 */
export async function withTenants<N extends string>(...tenantNames: N[]): Promise<{ database: TestDatabase; h: Harness } & Record<N, TenantClient>> {
  const database = await testPglite();
  afterAll(() => database.close());
  const h = harness(database);
  const provisioned = new Map<string, TenantClient>();
  beforeAll(async () => {
    for (const name of tenantNames) provisioned.set(name, await h.tenant(name));
  });
  const tenants = Object.fromEntries(tenantNames.map((name) => [name, provisionedInBeforeAll(name, () => provisioned.get(name))])) as Record<N, TenantClient>;
  return { database, h, ...tenants };
}

/** The usual two tenants: acme owns the objects under test, globex is the other tenant. */
export const twoTenants = () => withTenants('acme', 'globex');

export interface ViewOnlyCheck {
  /** The collection, e.g. `/v1/clusters`. */
  path: string;
  /** The POST that created the object: its body is the object, its ETag the object's. */
  created: { body: any; headers: Headers };
  /** Bodies of the refused POST, PUT and PATCH (each valid for a key allowed to write). */
  createBody: unknown;
  replaceBody: unknown;
  patchBody: unknown;
  viewRight: string;
  manageRight: string;
  /** Rights of a key that may not even read (other resources' rights). */
  outsiderRights: string[];
  /** A list query that finds exactly this object; without it, the viewer finds the object among the first 200. */
  listQuery?: string;
}

/**
 * A key holding only `viewRight` reads the object, alone and in a list, but gets 403 problem+json naming
 * `manageRight` on POST, PUT, PATCH and DELETE; a key holding only `outsiderRights` gets 403 naming `viewRight` on
 * the list and the object. Afterwards the object (body and ETag) and the owner's list are as before. Answers the two
 * clients, for checks of the resource's own endpoints.
 */
export async function expectViewOnly(h: Harness, owner: TenantClient, c: ViewOnlyCheck): Promise<{ viewer: TenantClient; outsider: TenantClient }> {
  const object = c.created.body;
  const item = `${c.path}/${object.id}`;
  const etag = c.created.headers.get('etag');
  const listBefore = await owner.json('GET', `${c.path}?limit=200`);
  expect(listBefore.status).toBe(200);

  const viewer = h.as(owner, await keyWithRights(owner, [c.viewRight]));
  const read = await viewer.json('GET', item);
  expect(read.status).toBe(200);
  expect(read.body).toEqual(object);
  expect(read.headers.get('etag')).toBe(etag);
  const listed = await viewer.json('GET', `${c.path}${c.listQuery ?? '?limit=200'}`);
  expect(listed.status).toBe(200);
  if (c.listQuery) expect(listed.body.items).toEqual([object]);
  else expect(listed.body.items).toContainEqual(object);
  for (const [method, path, body] of [
    ['POST', c.path, c.createBody],
    ['PUT', item, c.replaceBody],
    ['PATCH', item, c.patchBody],
    ['DELETE', item, undefined],
  ] as const) {
    const res = await viewer.json(method, path, body);
    expectProblem(res, 403, `viewer ${method}`);
    expect(res.body.missingRights, `viewer ${method}`).toEqual([c.manageRight]);
  }

  const outsider = h.as(owner, await keyWithRights(owner, c.outsiderRights));
  for (const path of [c.path, item]) {
    const res = await outsider.json('GET', path);
    expectProblem(res, 403, `outsider GET ${path}`);
    expect(res.body.missingRights, `outsider GET ${path}`).toEqual([c.viewRight]);
  }

  const after = await owner.json('GET', item);
  expect(after.body).toEqual(object);
  expect(after.headers.get('etag')).toBe(etag);
  expect((await owner.json('GET', `${c.path}?limit=200`)).body).toEqual(listBefore.body);
  return { viewer, outsider };
}

export interface OtherTenantCheck {
  /** The collection, e.g. `/v1/clusters`. */
  path: string;
  /** The owner's POST that created the object: its body is the object, its ETag the object's. */
  created: { body: any; headers: Headers };
  /** Bodies of the PUT and PATCH the other tenant tries (each valid for the owner). */
  replaceBody: unknown;
  patchBody: unknown;
  /** List queries of the other tenant, none of which may show the object (`['']` unless given). */
  listQueries?: string[];
}

/**
 * Another tenant gets 404 problem+json for the object on GET, PUT, PATCH and DELETE, with and without the object's
 * own ETag in If-Match; its lists do not show the object; the object (body and ETag) stays as created.
 */
export async function expectHiddenFromOtherTenant(owner: TenantClient, other: TenantClient, c: OtherTenantCheck): Promise<void> {
  const object = c.created.body;
  const item = `${c.path}/${object.id}`;
  const etag = c.created.headers.get('etag')!;
  const ifMatch = { 'if-match': etag };
  for (const [method, body, headers] of [
    ['GET'],
    ['PUT', c.replaceBody],
    ['PUT', c.replaceBody, ifMatch],
    ['PATCH', c.patchBody],
    ['PATCH', c.patchBody, ifMatch],
    ['DELETE'],
    ['DELETE', undefined, ifMatch],
  ] as const) {
    expectProblem(await other.json(method, item, body, headers), 404, `other tenant ${method}${headers ? ' with If-Match' : ''}`);
  }
  for (const query of c.listQueries ?? ['']) {
    const list = await other.json('GET', `${c.path}${query}`);
    expect(list.status, query).toBe(200);
    const shown = list.body.items.filter((i: { id: string; name?: string }) => i.id === object.id || (object.name !== undefined && i.name === object.name));
    expect(shown, query).toEqual([]);
  }
  const after = await owner.json('GET', item);
  expect(after.body).toEqual(object);
  expect(after.headers.get('etag')).toBe(etag);
}

export interface StaleCheck {
  /** An ETag the object had before its current one. */
  stale: string;
  replaceBody: unknown;
  patchBody: unknown;
}

/** PUT, PATCH and DELETE of `item` with a stale If-Match get 412 problem+json naming the current ETag, and change nothing. */
export async function expectStaleRefused(client: TenantClient, item: string, c: StaleCheck): Promise<void> {
  const before = await client.json('GET', item);
  expect(before.status).toBe(200);
  const current = before.headers.get('etag');
  expect(current).not.toBe(c.stale);
  for (const [method, body] of [
    ['PUT', c.replaceBody],
    ['PATCH', c.patchBody],
    ['DELETE', undefined],
  ] as const) {
    const res = await client.json(method, item, body, { 'if-match': c.stale });
    expectProblem(res, 412, `${method} with If-Match ${c.stale}`);
    expect(res.body.currentEtag, method).toBe(current);
  }
  const after = await client.json('GET', item);
  expect(after.body).toEqual(before.body);
  expect(after.headers.get('etag')).toBe(current);
}
