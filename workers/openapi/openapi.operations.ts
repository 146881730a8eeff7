import type { z } from 'zod';
import { Problem } from '../../schema/problem.ts';
import type { Right } from '../../schema/rights.ts';
import { PAGE_DEFAULTS } from '../http/pagination.ts';
import type { Io, JsonSchema, SchemaComponents } from './openapi.schemas.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Operation = { [field: string]: unknown };
export type PathItem = Partial<Record<Method, Operation>>;
export type Paths = Record<string, PathItem>;

/** What each problem status means, unless an operation says it more precisely. */
const PROBLEMS: Record<number, string> = {
  400: 'The body is not valid JSON',
  401: 'No credential, or an unknown, expired or revoked one',
  403: 'The credential lacks the needed right',
  404: 'No such object in the tenant',
  409: 'Conflicts with the current state',
  412: 'If-Match names an ETag other than the current one; read the object again',
  413: 'The body is larger than the server accepts',
  415: 'The body is not sent as JSON',
  422: 'The body has invalid fields or names objects that do not exist',
};

/** How callers authenticate; an operation names one (`bearer` unless it says otherwise) or `none`. */
export const SECURITY_SCHEMES = {
  bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'A tenant API key (from tenant provisioning or POST /v1/api-keys), or an OIDC JWT from the configured issuer whose claims name the tenant and its roles.',
  },
  operatorKey: { type: 'http', scheme: 'bearer', description: 'The platform operator key (PALISADE_OPERATOR_KEY); only for provisioning tenants.' },
  agentCredential: { type: 'http', scheme: 'bearer', description: 'A cluster credential, issued to the in-cluster agent at enrollment; API keys are refused.' },
} satisfies Record<string, JsonSchema>;
export type Security = keyof typeof SECURITY_SCHEMES | 'none';

export const MERGE_PATCH_TYPES = ['application/merge-patch+json', 'application/json'];

export const header = (description: string): JsonSchema => ({ description, schema: { type: 'string' } });
export const ETAG = header('The object\'s version; send it back as If-Match to change the object only if no one else has');
export const LOCATION = header('Where the created object lives');

export const pathId = (noun: string): JsonSchema => ({ name: 'id', in: 'path', required: true, description: `The ${noun}'s id`, schema: { type: 'string', format: 'uuid' } });
export const IF_MATCH: JsonSchema = {
  name: 'If-Match',
  in: 'header',
  required: false,
  description: 'An ETag from an earlier read; the write is refused with 412 if the object has changed since. Absent or `*`: no check.',
  schema: { type: 'string' },
};
export const PAGINATION: JsonSchema[] = [
  {
    name: 'limit',
    in: 'query',
    required: false,
    description: `Page size, ${PAGE_DEFAULTS.limit} by default`,
    schema: { type: 'integer', minimum: 1, maximum: PAGE_DEFAULTS.max, default: PAGE_DEFAULTS.limit },
  },
  { name: 'cursor', in: 'query', required: false, description: 'The `nextCursor` of the previous page', schema: { type: 'string' } },
];

export interface OperationSpec {
  tag: string;
  operationId: string;
  summary: string;
  description?: string;
  /** The right (or all the rights) a tenant credential must hold; omit for routes outside the tenant API. */
  right?: Right | readonly Right[];
  /** `bearer` (the default): an API key or OIDC token of the tenant. */
  security?: Security;
  parameters?: JsonSchema[];
  body?: { schema: z.ZodType | JsonSchema; description?: string; mediaTypes?: string[]; optional?: boolean };
  responses: Record<string, JsonSchema>;
  /** Problem statuses beyond those the operation's shape implies, with an optional sharper description. */
  problems?: Record<number, string | true>;
}

/** Builds operations whose bodies and responses come from zod schemas and whose errors are RFC 9457 problems. */
export class Operations {
  constructor(readonly schemas: SchemaComponents) {}

  schema(schema: z.ZodType | JsonSchema, io: Io): JsonSchema {
    return '_zod' in schema ? this.schemas.of(schema as z.ZodType, io) : (schema as JsonSchema);
  }

  json(description: string, schema: z.ZodType | JsonSchema, headers?: Record<string, JsonSchema>): JsonSchema {
    return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: this.schema(schema, 'output') } } };
  }

  problem(description: string): JsonSchema {
    return { description, content: { 'application/problem+json': { schema: this.schemas.of(Problem, 'output') } } };
  }

  operation(spec: OperationSpec): Operation {
    const security = spec.security ?? 'bearer';
    const implied: Record<number, string | true> = {};
    if (security !== 'none') implied[401] = true;
    if (spec.right) implied[403] = true;
    if (spec.body) Object.assign(implied, { 400: true, 413: true, 415: true, 422: true });
    Object.assign(implied, spec.problems);
    const problems = Object.fromEntries(
      Object.entries(implied)
        .sort(([a], [b]) => Number(a) - Number(b))
        .map(([status, text]) => [status, this.problem(text === true ? (PROBLEMS[Number(status)] ?? 'Error') : text)]),
    );
    const rights = spec.right === undefined ? [] : typeof spec.right === 'string' ? [spec.right] : spec.right;
    const needs = rights.length ? `Needs the right${rights.length > 1 ? 's' : ''} ${rights.map((r) => `\`${r}\``).join(' and ')}.` : undefined;
    const description = [needs, spec.description].filter(Boolean).join('\n\n');
    return {
      tags: [spec.tag],
      operationId: spec.operationId,
      summary: spec.summary,
      ...(description ? { description } : {}),
      ...(rights.length ? { 'x-palisade-right': rights.length === 1 ? rights[0] : rights } : {}),
      ...(security === 'bearer' ? {} : { security: security === 'none' ? [] : [{ [security]: [] }] }),
      ...(spec.parameters?.length ? { parameters: spec.parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: !spec.body.optional,
              ...(spec.body.description ? { description: spec.body.description } : {}),
              content: Object.fromEntries((spec.body.mediaTypes ?? ['application/json']).map((type) => [type, { schema: this.schema(spec.body!.schema, 'input') }])),
            },
          }
        : {}),
      responses: { ...spec.responses, ...problems },
    };
  }
}
