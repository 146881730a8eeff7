import { listOf } from '../../schema/common.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { ETAG, IF_MATCH, LOCATION, MERGE_PATCH_TYPES, PAGINATION, pathId, type Operations, type PathItem, type Paths } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

export const plural = (noun: string) => (/[^aeiou]y$/.test(noun) ? `${noun.slice(0, -1)}ies` : /(s|x|ch|sh)$/.test(noun) ? `${noun}es` : `${noun}s`);
const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
const pascal = (words: string) => words.split(/\s+/).map((w) => capitalize(w.toLowerCase())).join('');
const article = (noun: string) => (/^[aeiou]/i.test(noun) ? `an ${noun}` : `a ${noun}`);

/** The tag that groups a kind's operations: "Runtime policies". */
export const tagOf = (kind: ObjectKind) => capitalize(plural(kind.noun));

/** Hono's `/v1/scopes/:id` as OpenAPI writes it: `/v1/scopes/{id}`. */
export const openApiPath = (honoPath: string) => honoPath.replace(/:(\w+)/g, '{$1}');

const filterParameter = (many: string, name: string): JsonSchema => ({
  name,
  in: 'query',
  required: false,
  description: name === 'name' ? 'Exact name, or a mask in which `*` matches any run of characters' : `Only ${many} whose \`${name}\` matches`,
  schema: { type: 'string' },
});

/**
 * The generic CRUD routes of one kind (objects.routes.ts), described from the kind itself: its path, rights, noun,
 * filters and schemas. The answer is the kind's `output` schema: the input plus id and metadata.
 */
export function kindPaths(ops: Operations, kind: ObjectKind): Paths {
  const { noun } = kind;
  const tag = tagOf(kind);
  const one = pascal(noun);
  const many = plural(noun);
  const output = kind.output ?? kind.input;
  const { view, manage } = kind.rights;
  const filters = Object.keys(kind.filters ?? {});
  const inputRef = ops.schema(kind.input, 'input');
  const inputName = String(inputRef.$ref ?? '').split('/').pop() || 'the input schema';
  const answer = (what: string) => ({ 200: ops.json(what, output, { ETag: ETAG }) });
  const inUse: Record<number, string> = kind.beforeDelete || kind.readOnly ? { 409: `The ${noun} is ${kind.readOnly ? 'built-in, or ' : ''}still in use` } : {};
  const builtIn = kind.readOnly ? `; or the ${noun} is built-in and cannot change` : '';

  const collection: PathItem = {
    get: ops.operation({
      tag,
      operationId: `list${pascal(many)}`,
      summary: `List ${many}`,
      right: view,
      description: `Pages through the tenant's ${many} in creation order.${filters.length ? ` Filters combine with AND: ${filters.map((f) => `\`${f}\``).join(', ')}.` : ''}`,
      parameters: [...filters.map((f) => filterParameter(many, f)), ...PAGINATION],
      responses: { 200: ops.json(`A page of ${many}; \`nextCursor\` is present while more follow (pass it as \`cursor\`)`, listOf(kind.listOutput ?? output)) },
      problems: { 400: 'Unknown query parameters, or invalid filter, `limit` or `cursor` values' },
    }),
  };
  if (!kind.customCreate) {
    collection.post = ops.operation({
      tag,
      operationId: `create${one}`,
      summary: `Create ${article(noun)}`,
      right: manage,
      body: { schema: kind.input },
      responses: { 201: ops.json(`The created ${noun}`, output, { ETag: ETAG, Location: LOCATION }) },
      problems: { 409: `Another ${noun} has this name` },
    });
  }

  const item: PathItem = {
    get: ops.operation({
      tag,
      operationId: `get${one}`,
      summary: `Get ${article(noun)}`,
      right: view,
      parameters: [pathId(noun)],
      responses: answer(`The ${noun}`),
      problems: { 404: true },
    }),
    put: ops.operation({
      tag,
      operationId: `replace${one}`,
      summary: `Replace ${article(noun)}`,
      right: manage,
      parameters: [pathId(noun), IF_MATCH],
      body: { schema: kind.input },
      responses: answer(`The ${noun} as saved`),
      problems: { 404: true, 409: `Another ${noun} has this name${builtIn}`, 412: true },
    }),
    patch: ops.operation({
      tag,
      operationId: `update${one}`,
      summary: `Update ${article(noun)} with a JSON Merge Patch`,
      right: manage,
      description: `Merges the body into the stored document (RFC 7396: members replace, \`null\` removes) and validates the result as \`${inputName}\`.`,
      parameters: [pathId(noun), IF_MATCH],
      body: { schema: { type: 'object', description: `RFC 7396 merge patch of ${inputName}` }, mediaTypes: MERGE_PATCH_TYPES },
      responses: answer(`The ${noun} as saved`),
      problems: { 404: true, 409: `Another ${noun} has this name${builtIn}`, 412: true },
    }),
    delete: ops.operation({
      tag,
      operationId: `delete${one}`,
      summary: `Delete ${article(noun)}`,
      right: manage,
      parameters: [pathId(noun), IF_MATCH],
      responses: { 204: { description: 'Deleted' } },
      problems: { 404: true, 412: true, ...inUse },
    }),
  };
  return { [openApiPath(kind.path)]: collection, [openApiPath(`${kind.path}/:id`)]: item };
}
