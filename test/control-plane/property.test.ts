import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadedMachineRuns, PROPERTY_TEST_TIMEOUT } from '../support/property.ts';
import { mustCreate, withTenants } from '../support/resource-checks.ts';

/**
 * Malformed runtime policy documents, made by mutating a valid one, must always get a 4xx problem+json answer:
 * never a 5xx, and never a stored policy.
 */

const { h, acme } = await withTenants('acme');
let valid: Record<string, unknown>;
let putTarget: { id: string; body: Record<string, unknown> };
let patchTarget: string;

const PATH = '/v1/runtime-policies';

const create = async (path: string, body: unknown): Promise<Record<string, any>> => (await mustCreate(acme, path, body)).body;

beforeAll(async () => {
  const scope = await create('/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
  const profile = await create('/v1/runtime-profiles', { name: 'locked' });
  const validator = await create('/v1/signature-validators', {
    name: 'ci',
    type: 'cosign',
    verification: { method: 'keyless', identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github.com/acme/' }] },
  });
  valid = {
    name: 'payments',
    description: 'every section',
    enabled: true,
    mode: 'enforce',
    scopeIds: [scope.id],
    exclusions: { enabled: true, items: [{ kind: 'Namespace', name: 'kube-*', reason: 'system', expiresAt: '2031-01-01T00:00:00Z' }] },
    bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest'] },
    blockNonCompliantImages: { enabled: true },
    blockUnregisteredImages: { enabled: false },
    capabilitiesBlock: { enabled: true, capabilities: ['CAP_SYS_ADMIN', 'NET_RAW', 'ALL'] },
    containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'payments' }, profileIds: [profile.id] }, { imageUrlTemplates: ['ghcr.io/acme/*'], profileIds: [profile.id] }] },
    fileThreatProtection: { enabled: true },
    imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId: validator.id }] },
    limitContainerPrivileges: { enabled: true, preset: 'baseline', settings: ['privileged'] },
    registriesAllowed: { enabled: true, registries: ['ghcr.io/acme'] },
    volumesBlocked: { enabled: true, paths: ['/var/run/docker.sock'] },
  };
  const put = await create(PATH, { ...valid, name: 'put-target' });
  putTarget = { id: put.id, body: put };
  patchTarget = (await create(PATH, { ...valid, name: 'patch-target' })).id;
});

type Path = Array<string | number>;
type Mutation =
  | { kind: 'wrongType'; at: number; value: unknown }
  | { kind: 'unknownField'; at: number; key: string; value: unknown }
  | { kind: 'deleteRequired'; path: Path }
  | { kind: 'randomRoot'; value: unknown }
  | { kind: 'deep'; at: number; depth: number; shape: 'array' | 'object' }
  | { kind: 'hugeString'; at: number; length: number; unit: string }
  | { kind: 'unstorable'; at: number; text: string; bad: string };
type Request =
  | { kind: 'document'; mutations: Mutation[] }
  | { kind: 'contentType'; type: string }
  | { kind: 'truncated'; cut: number };

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isContainer = (v: unknown): v is Record<string | number, unknown> => v !== null && typeof v === 'object';

function allPaths(value: unknown, prefix: Path = []): Path[] {
  if (!isContainer(value)) return [];
  return Object.keys(value).flatMap((k) => {
    const key = Array.isArray(value) ? Number(k) : k;
    const path = [...prefix, key];
    return [path, ...allPaths((value as Record<string, unknown>)[k], path)];
  });
}

function getAt(doc: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (isContainer(v) ? (v as Record<string | number, unknown>)[k] : undefined), doc);
}

function setAt(doc: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  if (isContainer(parent)) Object.defineProperty(parent, path.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
  return doc;
}

const REQUIRED: Path[] = [
  ['name'],
  ['mode'],
  ['scopeIds'],
  ['exclusions', 'items', 0, 'kind'],
  ['exclusions', 'items', 0, 'name'],
  ['containerRuntimeProfiles', 'mappings', 0, 'podLabels'],
  ['containerRuntimeProfiles', 'mappings', 0, 'profileIds'],
  ['containerRuntimeProfiles', 'mappings', 1, 'imageUrlTemplates'],
  ['imageContentProtection', 'rules', 0, 'registryUrlTemplate'],
  ['imageContentProtection', 'rules', 0, 'verify'],
  ['imageContentProtection', 'rules', 0, 'validatorId'],
];

/** Applies the mutations; deep garbage goes in as placeholders replaced in the text (JSON.stringify would overflow). */
function render(mutations: Mutation[]): string {
  let doc: unknown = structuredClone(valid);
  const deep: string[] = [];
  for (const m of mutations) {
    const paths = allPaths(doc);
    const pick = (at: number, among: Path[] = paths) => among[at % Math.max(among.length, 1)];
    switch (m.kind) {
      case 'wrongType': {
        const path = pick(m.at);
        if (!path) break;
        const current = getAt(doc, path);
        const value = jsonType(m.value) === jsonType(current) ? (typeof current === 'number' ? 'not a number' : 12345) : m.value;
        doc = setAt(doc, path, value);
        break;
      }
      case 'unknownField': {
        const objects = [[], ...paths].filter((p) => { const v = getAt(doc, p); return isContainer(v) && !Array.isArray(v); });
        const path = pick(m.at, objects);
        // A leading space makes it neither a member of the schema nor a Kubernetes label key.
        if (path) doc = setAt(doc, [...path, ` ${m.key}`], m.value);
        break;
      }
      case 'deleteRequired': {
        const parent = getAt(doc, m.path.slice(0, -1));
        if (isContainer(parent) && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[m.path.at(-1)!];
        break;
      }
      case 'randomRoot':
        doc = m.value;
        break;
      case 'deep': {
        const path = pick(m.at);
        if (!path) break;
        const open = m.shape === 'array' ? '[' : '{"a":';
        const close = m.shape === 'array' ? ']' : '}';
        deep.push(open.repeat(m.depth) + (m.shape === 'array' ? '' : '0') + close.repeat(m.depth));
        doc = setAt(doc, path, `@@deep-${deep.length - 1}@@`);
        break;
      }
      case 'hugeString': {
        const path = pick(m.at);
        if (path) doc = setAt(doc, path, m.unit.repeat(Math.ceil(m.length / m.unit.length)));
        break;
      }
      case 'unstorable': {
        const strings = paths.filter((p) => typeof getAt(doc, p) === 'string');
        const path = pick(m.at, strings);
        if (path) doc = setAt(doc, path, m.text + m.bad + m.text);
        break;
      }
    }
  }
  let text = JSON.stringify(doc) ?? 'null';
  deep.forEach((d, i) => (text = text.replace(`"@@deep-${i}@@"`, () => d)));
  return text;
}

const at = fc.nat();
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('wrongType' as const), at, value: fc.jsonValue({ maxDepth: 3 }) }),
  fc.record({ kind: fc.constant('unknownField' as const), at, key: fc.string({ unit: 'binary', maxLength: 20 }), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ kind: fc.constant('deleteRequired' as const), path: fc.constantFrom(...REQUIRED) }),
  fc.record({ kind: fc.constant('randomRoot' as const), value: fc.jsonValue({ maxDepth: 4 }) }),
  fc.record({ kind: fc.constant('deep' as const), at, depth: fc.integer({ min: 20, max: 60_000 }), shape: fc.constantFrom('array' as const, 'object' as const) }),
  fc.record({ kind: fc.constant('hugeString' as const), at, length: fc.integer({ min: 5_000, max: 1_500_000 }), unit: fc.constantFrom('a', 'é', '🚀', '"', '\\', ' ', '\u0007', 'ab-*/') }),
  fc.record({
    kind: fc.constant('unstorable' as const),
    at,
    text: fc.string({ maxLength: 10 }),
    bad: fc.constantFrom('\u0000', '\ud800', '\udfff', '\udbff', '\udc00\ud800', 'x\u0000y'),
  }),
);
const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('document' as const), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('contentType' as const),
      type: fc.constantFrom('text/plain', 'application/xml', '', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'text/json', 'application/jsonp', 'json'),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncated' as const), cut: fc.nat() }) },
);

function toHttp(r: Request): { body: string; type: string } {
  switch (r.kind) {
    case 'document':
      return { body: render(r.mutations), type: 'application/json' };
    case 'contentType':
      return { body: JSON.stringify(valid), type: r.type };
    case 'truncated': {
      const text = JSON.stringify(valid);
      return { body: text.slice(0, r.cut % text.length), type: 'application/json' };
    }
  }
}

async function send(method: string, path: string, body: string, type: string) {
  const res = await h.app.request(path, { method, body, headers: { authorization: `Bearer ${acme.key}`, ...(type ? { 'content-type': type } : {}) } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text };
}

function expectClientProblem(res: { status: number; type: string | null; text: string }, what: string) {
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${what}: ${res.text.slice(0, 300)}`).toBeLessThan(500);
  expect(res.type, what).toBe('application/problem+json');
  expect(JSON.parse(res.text).status, what).toBe(res.status);
}

describe('malformed runtime policy documents', () => {
  it('always get a 4xx problem+json, never a 5xx', { timeout: PROPERTY_TEST_TIMEOUT }, async () => {
    const runs = loadedMachineRuns(100);
    await fc.assert(
      fc.asyncProperty(request, runs.counted(async (r: Request) => {
        const { body, type } = toHttp(r);
        expectClientProblem(await send('POST', PATH, body, type), 'POST');
        expectClientProblem(await send('PUT', `${PATH}/${putTarget.id}`, body, type), 'PUT');
        // A merge patch may well be valid (it need not repeat required members); it must still never fail the server.
        const patch = await send('PATCH', `${PATH}/${patchTarget}`, body, type === 'application/json' ? 'application/merge-patch+json' : type);
        expect(patch.status, `PATCH: ${patch.text.slice(0, 300)}`).toBeLessThan(500);
        if (patch.status >= 400) expect(patch.type).toBe('application/problem+json');
      })),
      runs.parameters,
    );
    runs.expectRuns(30);

    // Nothing malformed was stored.
    const list = await acme.json('GET', `${PATH}?limit=200`);
    expect(list.body.items.map((p: { id: string }) => p.id).sort()).toEqual([putTarget.id, patchTarget].sort());
    expect((await acme.json('GET', `${PATH}/${putTarget.id}`)).body).toEqual(putTarget.body);
  });
});
