import { EffectiveFileSignatures } from '../../schema/file-signature-sets.ts';
import { SignatureSetDocument } from '../../schema/file-signatures.ts';
import { EFFECTIVE_SIGNATURES_PATH, fileSignatureSetKind } from '../file-signatures/file-signature-sets.routes.ts';
import { AGENT_TAG } from './openapi.agents.ts';
import { tagOf } from './openapi.kinds.ts';
import { header, type Operations, type Paths } from './openapi.operations.ts';

const SET_ETAG = header('The effective set\'s version and digest; send it as If-None-Match to the agent endpoint');
const SET_HEADERS = { ETag: SET_ETAG, 'Palisade-Signatures-Version': header('The effective set\'s version'), 'Palisade-Signatures-Digest': header('`sha256:<hex>` of its canonical JSON') };

/**
 * The effective signature set (all of a tenant's sets merged) for people and for agents. The sets themselves are
 * generic CRUD, described from their kind.
 */
export function fileSignaturePaths(ops: Operations): Paths {
  const tag = tagOf(fileSignatureSetKind);
  const { view } = fileSignatureSetKind.rights;
  return {
    [EFFECTIVE_SIGNATURES_PATH]: {
      get: ops.operation({
        tag,
        operationId: 'getEffectiveFileSignatures',
        summary: 'Get the version and digest of the effective signature set',
        description: "All of the tenant's signature sets merged: every signature once, EICAR's always first. Its version rises with every change of its content; bundles that turn File Threat Protection on name this version and digest.",
        right: view,
        responses: { 200: ops.json('The effective set', EffectiveFileSignatures, { ETag: SET_ETAG }) },
      }),
    },
    [`${EFFECTIVE_SIGNATURES_PATH}/document`]: {
      get: ops.operation({
        tag,
        operationId: 'getEffectiveFileSignaturesDocument',
        summary: 'Download the effective signature set',
        description: 'The canonical JSON whose SHA-256 is the digest; `palisade-agent scan --signatures FILE.json` reads it.',
        right: view,
        responses: { 200: ops.json('The effective set', SignatureSetDocument, { ETag: SET_ETAG }) },
      }),
    },
    '/v1/agent/file-signatures': {
      get: ops.operation({
        tag: AGENT_TAG,
        operationId: 'getAgentFileSignatures',
        summary: "Download the tenant's signed file signature set",
        description: "A JWS of type `palisade-signatures+jwt` signed with the bundle keys (gzip when accepted): claims `iss`, `tid`, `ver`, `dig`, `iat`, `exp` and `signatures`, a SignatureSetDocument. Agents use it only when its version and digest are the ones their verified bundle names. With `If-None-Match` holding the current ETag the answer is 304.",
        security: 'agentCredential',
        parameters: [{ name: 'If-None-Match', in: 'header', required: false, description: 'The ETag of the set the agent has', schema: { type: 'string' } }],
        responses: {
          200: { description: 'The signed set', headers: SET_HEADERS, content: { 'application/jose': { schema: { type: 'string', description: 'Compact JWS whose payload carries a SignatureSetDocument' } } } },
          304: { description: 'The agent has the current set', headers: SET_HEADERS },
        },
      }),
    },
  };
}
