import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, describe, expect, it } from 'vitest';
import { isConsoleRoute } from '../../workers/console/console.routes.tsx';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const toOpenApi = (path: string) => path.replace(/:(\w+)/g, '{$1}');
type Doc = { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };

async function document(): Promise<Doc> {
  const res = await h.app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Doc;
}

describe('GET /openapi.json', () => {
  it('says which file threat settings no agent applies', async () => {
    const props = (await document()).components.schemas.FileThreatProtectionSettingsInput.properties;
    expect(props.scanMode.description).toMatch(/^Not applied/);
    expect(props.heuristicLevel.description).toMatch(/^Not applied/);
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    const validator = new Validator();
    const result = await validator.validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('describes every route the app serves, and no other', async () => {
    const doc = await document();
    // The web console's HTML pages share the app but are not API routes.
    const routes = [...new Set(h.app.routes.filter((r) => METHODS.includes(r.method) && !isConsoleRoute(r.path)).map((r) => `${r.method} ${toOpenApi(r.path)}`))];
    const described = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.filter((r) => !described.includes(r))).toEqual([]);
    expect(described.filter((d) => !routes.includes(d))).toEqual([]);
  });

  it('resolves every $ref to a component', async () => {
    const doc = await document();
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref).toMatch(/^#\/components\/schemas\//);
      expect(doc.components.schemas[ref.split('/').pop()!], ref).toBeDefined();
    }
  });

  it('generates the runtime policy input from its zod schema, with every section', async () => {
    const doc = await document();
    const input = doc.components.schemas.RuntimePolicyInput;
    expect(Object.keys(input.properties).sort()).toEqual(
      [
        'name', 'description', 'enabled', 'mode', 'scopeIds', 'exclusions', 'bestPracticeCheck', 'blockNonCompliantImages', 'blockUnregisteredImages',
        'capabilitiesBlock', 'containerRuntimeProfiles', 'fileThreatProtection', 'imageContentProtection', 'limitContainerPrivileges', 'registriesAllowed',
        'volumesBlocked',
      ].sort(),
    );
    // A request may leave out what has a default; the stored form (in revisions) always has it.
    expect(input.required.sort()).toEqual(['mode', 'name', 'scopeIds']);
    expect(input.additionalProperties).toBe(false);
    expect(input.properties.exclusions.properties.items.items.properties.kind.enum).toContain('Namespace');
    expect(doc.components.schemas.RuntimePolicySpec.required).toContain('exclusions');
    expect(doc.components.schemas.RuntimePolicy.required).toEqual(expect.arrayContaining(['id', 'revision', 'createdAt', 'updatedBy']));
  });

  it('documents rights, ETags, pagination, list shape and problems on the generic routes', async () => {
    const doc = await document();
    const list = doc.paths['/v1/runtime-policies']!.get;
    expect(list['x-palisade-right']).toBe('runtimePolicies.view');
    expect(list.description).toContain('runtimePolicies.view');
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(['name', 'enabled', 'mode', 'scopeId', 'profileId', 'validatorId', 'limit', 'cursor']);
    const page = list.responses['200'].content['application/json'].schema;
    expect(page.properties.items.items).toEqual({ $ref: '#/components/schemas/RuntimePolicy' });
    expect(Object.keys(page.properties)).toEqual(['items', 'nextCursor']);

    const create = doc.paths['/v1/runtime-policies']!.post;
    expect(create.requestBody.content['application/json'].schema).toEqual({ $ref: '#/components/schemas/RuntimePolicyInput' });
    expect(Object.keys(create.responses['201'].headers)).toEqual(['ETag', 'Location']);
    expect(Object.keys(create.responses)).toEqual(['201', '400', '401', '403', '409', '413', '415', '422']);
    expect(create.responses['422'].content['application/problem+json'].schema).toEqual({ $ref: '#/components/schemas/Problem' });

    const put = doc.paths['/v1/scopes/{id}']!.put;
    expect(put['x-palisade-right']).toBe('scopes.manage');
    expect(put.parameters.map((p: { name: string }) => p.name)).toEqual(['id', 'If-Match']);
    expect(put.responses).toHaveProperty('412');
    expect(doc.paths['/v1/scopes/{id}']!.patch.requestBody.content).toHaveProperty('application/merge-patch+json');
    expect(doc.paths['/v1/clusters']!.get.parameters.map((p: { name: string }) => p.name)).toEqual(['name', 'label', 'limit', 'cursor']);
  });

  it('documents the hand-written routes', async () => {
    const doc = await document();
    expect(doc.paths['/v1/tenants']!.post.security).toEqual([{ operatorKey: [] }]);
    expect(doc.paths['/v1/api-keys']!.post.responses['201'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/ApiKeyCreated' });
    expect(doc.paths['/v1/api-keys/{id}/revoke']!.post['x-palisade-right']).toBe('apiKeys.manage');
    expect(doc.paths['/v1/runtime-policies/{id}/revisions']!.get.responses['200'].content['application/json'].schema.properties.items.items).toEqual({
      $ref: '#/components/schemas/RuntimePolicyRevision',
    });
    expect(doc.paths['/v1/settings/file-threat-protection']!.patch['x-palisade-right']).toBe('fileThreatProtection.manage');
    expect(doc.paths['/healthz']!.get.security).toEqual([]);
  });

  it('answers the same document every time', async () => {
    expect(await (await h.app.request('/openapi.json')).text()).toBe(await (await h.app.request('/openapi.json')).text());
  });
});

describe('GET /docs', () => {
  it('is a self-contained HTML page listing every path', async () => {
    const res = await h.app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    const doc = await document();
    const plain = html.replaceAll('<wbr>', '');
    for (const path of Object.keys(doc.paths)) expect(plain).toContain(`<code>${path}</code>`);
    expect(html).toContain('runtimePolicies.manage');
    expect(html).toContain('id="schema-RuntimePolicyInput"');
    expect(html).not.toMatch(/<script|<link|src="http|href="http/i);
  });
});
