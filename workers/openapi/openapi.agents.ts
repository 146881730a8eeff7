import { BundleContentV1 } from '../../schema/bundle.ts';
import { AgentStatus } from '../agents/agent.routes.ts';
import { clusterKind } from '../clusters/clusters.routes.ts';
import { openApiPath, tagOf } from './openapi.kinds.ts';
import { ETAG, header, pathId, type Operations, type Paths } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

export const AGENT_TAG = 'Agent';

const string = (description?: string): JsonSchema => ({ type: 'string', ...(description ? { description } : {}) });
const time = (nullable = false): JsonSchema => ({ type: nullable ? ['string', 'null'] : 'string', format: 'date-time' });
const object = (properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema => ({ type: 'object', properties, required });
const JWKS = object({ keys: { type: 'array', items: { type: 'object', description: 'A public JWK' } } });
const BUNDLE_HEADERS = { ETag: ETAG, 'Palisade-Bundle-Revision': header('The bundle revision') };

/**
 * The in-cluster agent's routes (enrollment, signed bundle, status, credential rotation) and the tenant routes that
 * manage a cluster's agent. Bodies whose zod schema the route file exports are generated from it.
 */
export function agentPaths(ops: Operations): Paths {
  const clusters = tagOf(clusterKind);
  const cluster = [pathId(clusterKind.noun)];
  const { view, manage } = clusterKind.rights;
  return {
    '/.well-known/jwks.json': {
      get: ops.operation({ tag: AGENT_TAG, operationId: 'bundleSigningKeys', summary: 'Public keys that sign bundles (JWK Set)', security: 'none', responses: { 200: ops.json('The JWK Set: current and previous keys', JWKS) } }),
    },
    '/v1/agent/enroll': {
      post: ops.operation({
        tag: AGENT_TAG,
        operationId: 'enrollAgent',
        summary: 'Redeem an enrollment token for a cluster credential',
        security: 'none',
        body: { schema: object({ token: string('A one-time enrollment token') }) },
        responses: {
          201: ops.json('The cluster credential, shown once, and what the agent needs to verify bundles', object({ clusterId: string(), tenantId: string(), issuer: string(), credential: string(), jwks: JWKS })),
        },
        problems: { 401: 'The enrollment token is unknown, used or expired' },
      }),
    },
    '/v1/agent/bundle': {
      get: ops.operation({
        tag: AGENT_TAG,
        operationId: 'getAgentBundle',
        summary: "Download the cluster's signed policy bundle",
        description: 'A JWS (gzip when accepted). With `If-None-Match` holding the current ETag the answer is 304; `wait` holds that 304 back until a newer bundle exists or the time is up.',
        security: 'agentCredential',
        parameters: [
          { name: 'wait', in: 'query', required: false, description: 'Seconds to wait for a newer bundle', schema: { type: 'integer', minimum: 0, maximum: 120 } },
          { name: 'If-None-Match', in: 'header', required: false, description: 'The ETag of the bundle the agent has', schema: { type: 'string' } },
        ],
        responses: {
          200: { description: 'The signed bundle', headers: BUNDLE_HEADERS, content: { 'application/jose': { schema: string('Compact JWS whose payload is a BundleContentV1') } } },
          304: { description: 'The agent has the current bundle', headers: BUNDLE_HEADERS },
        },
        problems: { 400: 'Invalid `wait`', 404: 'The cluster no longer exists' },
      }),
    },
    '/v1/agent/status': {
      post: ops.operation({ tag: AGENT_TAG, operationId: 'reportAgentStatus', summary: "Report the agent's status", security: 'agentCredential', body: { schema: AgentStatus }, responses: { 204: { description: 'Recorded' } } }),
    },
    '/v1/agent/credentials/rotate': {
      post: ops.operation({
        tag: AGENT_TAG,
        operationId: 'rotateAgentCredential',
        summary: 'Swap the cluster credential for a new one',
        description: 'The old credential keeps working until `previousCredentialExpiresAt`.',
        security: 'agentCredential',
        responses: { 201: ops.json('The new credential, shown once', object({ credential: string(), previousCredentialExpiresAt: time() })) },
      }),
    },
    [openApiPath(`${clusterKind.path}/:id/enrollment-tokens`)]: {
      post: ops.operation({
        tag: clusters,
        operationId: 'createEnrollmentToken',
        summary: "Create a one-time token that enrolls the cluster's agent",
        right: manage,
        parameters: cluster,
        body: { schema: object({ expiresInSeconds: { type: 'integer', minimum: 60, maximum: 604800, default: 3600 } }, []), optional: true },
        responses: { 201: ops.json('The token, shown once', object({ token: string(), expiresAt: time() })) },
        problems: { 404: true },
      }),
    },
    [openApiPath(`${clusterKind.path}/:id/credentials`)]: {
      get: ops.operation({
        tag: clusters,
        operationId: 'listClusterCredentials',
        summary: "List the cluster's agent credentials",
        right: view,
        parameters: cluster,
        responses: {
          200: ops.json('Every credential issued to the cluster', object({ items: { type: 'array', items: object({ id: string(), prefix: string(), createdAt: time(true), expiresAt: time(true), revokedAt: time(true), lastUsedAt: time(true), rotatedFrom: { type: ['string', 'null'], description: 'The credential this one was rotated from' } }) } })),
        },
        problems: { 404: true },
      }),
    },
    [openApiPath(`${clusterKind.path}/:id/credentials/:credentialId/revoke`)]: {
      post: ops.operation({
        tag: clusters,
        operationId: 'revokeClusterCredential',
        summary: 'Revoke an agent credential',
        right: manage,
        parameters: [...cluster, { name: 'credentialId', in: 'path', required: true, description: "The credential's id", schema: { type: 'string', format: 'uuid' } }],
        responses: { 204: { description: 'Revoked' } },
        problems: { 404: 'No such cluster or credential' },
      }),
    },
    [openApiPath(`${clusterKind.path}/:id/bundle`)]: {
      get: ops.operation({
        tag: clusters,
        operationId: 'getClusterBundle',
        summary: "The content of the cluster's current bundle, unsigned",
        right: [view, 'runtimePolicies.view'],
        parameters: cluster,
        responses: {
          200: ops.json(
            'What the agent receives, without the signature. What the caller may not view through its own endpoint (a section without its view right, scopes without scopes.view, the global scope without scopes.viewGlobal) is left out; the member `redacted` and the header Palisade-Bundle-Redacted then list its JSON Pointers, and ETag and digest are not sent.',
            BundleContentV1,
            { ...BUNDLE_HEADERS, 'Palisade-Bundle-Digest': header('Digest of the content (whole bundles only)'), 'Palisade-Bundle-Redacted': header('JSON Pointers of what was left out, comma-separated') },
          ),
        },
        problems: { 404: true },
      }),
    },
    [openApiPath(`${clusterKind.path}/:id/status`)]: {
      get: ops.operation({
        tag: clusters,
        operationId: 'getClusterStatus',
        summary: "The last status the cluster's agent reported",
        right: view,
        parameters: cluster,
        responses: { 200: ops.json('The AgentStatus members the agent last sent, and when; only `reportedAt: null` before the first report', object({ reportedAt: time(true) }, ['reportedAt'])) },
        problems: { 404: true },
      }),
    },
  };
}
