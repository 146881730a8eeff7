import { ApiKeyCreated, TenantCreated, TenantInput } from '../../schema/access.ts';
import { listOf } from '../../schema/common.ts';
import { FileThreatProtectionSettingsDoc, FileThreatProtectionSettingsInput } from '../../schema/file-threat-protection.ts';
import { RuntimePolicyRevision } from '../../schema/runtime-policies.ts';
import { apiKeyKind } from '../access/api-keys.routes.ts';
import { runtimePolicyKind } from '../policies/policies.routes.ts';
import { openApiPath, tagOf } from './openapi.kinds.ts';
import { ETAG, IF_MATCH, LOCATION, MERGE_PATCH_TYPES, PAGINATION, pathId, type Operations, type Paths } from './openapi.operations.ts';

export const SERVICE_TAG = 'Service';
export const TENANTS_TAG = 'Tenants';
const SETTINGS_PATH = '/v1/settings/file-threat-protection';

/** The routes that are not generic CRUD: provisioning, API key secrets, revisions, settings and the service's own. */
export function extraPaths(ops: Operations): Paths {
  const keys = tagOf(apiKeyKind);
  const policies = tagOf(runtimePolicyKind);
  const settings = { ETag: ETAG };
  const ftpDescription = 'Tenant-wide File Threat Protection settings, used by every active runtime policy that turns the component on. Until first saved, the defaults at ETag `"0"`.';
  return {
    '/healthz': {
      get: ops.operation({
        tag: SERVICE_TAG,
        operationId: 'health',
        summary: 'Liveness check',
        security: 'none',
        responses: { 200: ops.json('The service is up', { type: 'object', properties: { status: { const: 'ok' } }, required: ['status'] }) },
      }),
    },
    '/openapi.json': {
      get: ops.operation({ tag: SERVICE_TAG, operationId: 'openApiDocument', summary: 'This API description (OpenAPI 3.1)', security: 'none', responses: { 200: ops.json('The OpenAPI document', { type: 'object' }) } }),
    },
    '/docs': {
      get: ops.operation({
        tag: SERVICE_TAG,
        operationId: 'apiDocs',
        summary: 'This API description as a readable page',
        security: 'none',
        responses: { 200: { description: 'An HTML page', content: { 'text/html': { schema: { type: 'string' } } } } },
      }),
    },
    '/v1/tenants': {
      post: ops.operation({
        tag: TENANTS_TAG,
        operationId: 'createTenant',
        summary: 'Provision a tenant',
        description: 'For the platform operator, with the operator key (PALISADE_OPERATOR_KEY; without that setting every call answers 401). Creates the tenant with its built-in roles, the built-in global scope and a first administrator API key, whose secret is answered once.',
        security: 'operatorKey',
        body: { schema: TenantInput },
        responses: { 201: ops.json('The tenant and its first administrator API key secret', TenantCreated, { Location: LOCATION }) },
        problems: { 401: 'No operator key, a wrong one, or provisioning is off', 409: 'A tenant with this name exists already' },
      }),
    },
    [apiKeyKind.path]: {
      post: ops.operation({
        tag: keys,
        operationId: 'createApiKey',
        summary: 'Create an API key',
        description: 'The answer holds the secret, once: only its hash is stored. A key may hold only roles whose rights the caller holds.',
        right: apiKeyKind.rights.manage,
        body: { schema: apiKeyKind.input },
        responses: { 201: ops.json('The key and its secret', ApiKeyCreated, { ETag: ETAG, Location: LOCATION }) },
        problems: { 403: 'The caller lacks the right, or some right of the roles it grants', 409: 'Another API key has this name' },
      }),
    },
    [openApiPath(`${apiKeyKind.path}/:id/revoke`)]: {
      post: ops.operation({
        tag: keys,
        operationId: 'revokeApiKey',
        summary: 'Revoke an API key',
        description: 'The key authenticates no more; its record (who had it, when it was last used) stays. Revoking again changes nothing.',
        right: apiKeyKind.rights.manage,
        parameters: [pathId(apiKeyKind.noun)],
        responses: { 200: ops.json('The revoked key', apiKeyKind.output ?? apiKeyKind.input, { ETag: ETAG }) },
        problems: { 404: true },
      }),
    },
    [openApiPath(`${runtimePolicyKind.path}/:id/revisions`)]: {
      get: ops.operation({
        tag: policies,
        operationId: 'listRuntimePolicyRevisions',
        summary: 'List the revisions of a runtime policy',
        description: 'Who changed what and when, oldest first; kept after the policy is deleted.',
        right: runtimePolicyKind.rights.view,
        parameters: [pathId(runtimePolicyKind.noun), ...PAGINATION],
        responses: { 200: ops.json('A page of revisions; `nextCursor` is present while more follow', listOf(RuntimePolicyRevision)) },
        problems: { 400: 'Invalid `limit` or `cursor`', 404: 'No runtime policy with this id ever existed' },
      }),
    },
    [SETTINGS_PATH]: {
      get: ops.operation({
        tag: 'Settings',
        operationId: 'getFileThreatProtectionSettings',
        summary: 'Get the File Threat Protection settings',
        description: ftpDescription,
        right: 'fileThreatProtection.view',
        responses: { 200: ops.json('The settings', FileThreatProtectionSettingsDoc, settings) },
      }),
      put: ops.operation({
        tag: 'Settings',
        operationId: 'replaceFileThreatProtectionSettings',
        summary: 'Replace the File Threat Protection settings',
        description: 'Members left out take their defaults.',
        right: 'fileThreatProtection.manage',
        parameters: [IF_MATCH],
        body: { schema: FileThreatProtectionSettingsInput },
        responses: { 200: ops.json('The settings as saved', FileThreatProtectionSettingsDoc, settings) },
        problems: { 412: true },
      }),
      patch: ops.operation({
        tag: 'Settings',
        operationId: 'updateFileThreatProtectionSettings',
        summary: 'Update the File Threat Protection settings with a JSON Merge Patch',
        description: 'Merges the body into the current settings (RFC 7396) and validates the result as `FileThreatProtectionSettingsInput`.',
        right: 'fileThreatProtection.manage',
        parameters: [IF_MATCH],
        body: { schema: { type: 'object', description: 'RFC 7396 merge patch of FileThreatProtectionSettingsInput' }, mediaTypes: MERGE_PATCH_TYPES },
        responses: { 200: ops.json('The settings as saved', FileThreatProtectionSettingsDoc, settings) },
        problems: { 412: true },
      }),
    },
  };
}
