import type { Hono } from 'hono';
import pkg from '../../package.json' with { type: 'json' };
import { registeredKinds } from '../objects/objects.routes.ts';
import { AGENT_TAG, agentPaths } from './openapi.agents.ts';
import { auditPaths } from './openapi.audit.ts';
import { assurancePaths } from './openapi.assurance.ts';
import { fileSignaturePaths } from './openapi.file-signatures.ts';
import { extraPaths, SERVICE_TAG, TENANTS_TAG } from './openapi.extras.ts';
import { kindPaths } from './openapi.kinds.ts';
import { webhookPaths } from './openapi.webhooks.ts';
import { Operations, SECURITY_SCHEMES, type Method, type Operation, type Paths } from './openapi.operations.ts';
import { SchemaComponents, type JsonSchema } from './openapi.schemas.ts';

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description?: string }>;
  paths: Paths;
  components: { schemas: Record<string, JsonSchema>; securitySchemes: Record<string, JsonSchema> };
  [field: string]: unknown;
}

export const METHODS: readonly Method[] = ['get', 'post', 'put', 'patch', 'delete'];

const DESCRIPTION = `Palisade's control plane: tenant-scoped runtime policies for Kubernetes and the objects they use.

- **Authentication**: \`Authorization: Bearer <token>\` with an API key or, where configured, an OIDC token. Each operation names the right it needs (\`x-palisade-right\`); a credential without it gets 403.
- **Concurrency**: every object answers an \`ETag\`; send it as \`If-Match\` on PUT, PATCH and DELETE to change only what you read (412 otherwise).
- **Lists** answer \`{ items, nextCursor }\`; pass \`nextCursor\` as \`cursor\` for the next page, and \`limit\` for its size.
- **Errors** are RFC 9457 problem documents (\`application/problem+json\`); \`errors\` holds one entry per invalid field (\`pointer\`) or query parameter (\`parameter\`).`;

function addPaths(into: Paths, from: Paths): void {
  for (const [path, item] of Object.entries(from)) into[path] = { ...into[path], ...item };
}

/**
 * The OpenAPI 3.1 description of an app: generic CRUD derived from the object kinds registered on it, plus the
 * routes written by hand, with every body and answer generated from the zod schemas the routes validate with.
 */
export function buildOpenApiDocument(app: Hono<any>): OpenApiDocument {
  const schemas = new SchemaComponents();
  const ops = new Operations(schemas);
  const paths: Paths = {};
  for (const kind of registeredKinds(app)) addPaths(paths, kindPaths(ops, kind));
  addPaths(paths, extraPaths(ops));
  addPaths(paths, agentPaths(ops));
  addPaths(paths, auditPaths(ops));
  addPaths(paths, webhookPaths(ops));
  addPaths(paths, assurancePaths(ops));
  addPaths(paths, fileSignaturePaths(ops));

  const tags: string[] = [];
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item) as Operation[]) {
      for (const tag of operation.tags as string[]) if (!tags.includes(tag)) tags.push(tag);
    }
  }
  const rank = (tag: string) => (tag === TENANTS_TAG ? -1 : [AGENT_TAG, SERVICE_TAG].indexOf(tag) + 1);
  tags.sort((a, b) => rank(a) - rank(b));
  return {
    openapi: '3.1.0',
    info: { title: 'Palisade API', version: pkg.version, description: DESCRIPTION },
    tags: tags.map((name) => ({ name })),
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: Object.fromEntries(Object.entries(schemas.schemas).sort(([a], [b]) => a.localeCompare(b))),
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}
