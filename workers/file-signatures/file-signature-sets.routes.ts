import { getTableColumns, sql } from 'drizzle-orm';
import type { Hono, MiddlewareHandler } from 'hono';
import { FileSignatureSet, FileSignatureSetInput, FileSignatureSetSummary } from '../../schema/file-signature-sets.ts';
import { fileSignatureSets as t } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { requireRight } from '../auth/principal.ts';
import { inTenant } from '../db/db.ts';
import { PalisadeError } from '../http/errors.ts';
import { nameFilter, specContains } from '../objects/filters.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { effectiveDocument, effectiveFacts, recomputeEffective } from './effective.store.ts';
import { importSet, type ImportedSet } from './import.ts';
import { signaturesEtag, type SignatureSetService } from './signature-set.service.ts';
import { serveSignatures } from './signatures.download.ts';

export const FILE_SIGNATURE_SETS_PATH = '/v1/file-signature-sets';
export const EFFECTIVE_SIGNATURES_PATH = '/v1/file-signatures';
const FORMATS = ['palisade', 'hdb', 'hsb', 'ndb'];

/** Each validated document's import, from `beforeWrite` (async: it digests) to `columns` (sync) of the same write. */
const imported = new WeakMap<object, ImportedSet>();

/**
 * Signature sets are File Threat Protection configuration: the rights of its settings govern them too, so a role that
 * tunes the component also curates what it detects, and custom roles made before sets existed keep working.
 */
export const fileSignatureSetKind: ObjectKind<typeof FileSignatureSetInput> = {
  noun: 'file signature set',
  path: FILE_SIGNATURE_SETS_PATH,
  table: t,
  input: FileSignatureSetInput,
  output: FileSignatureSet,
  listOutput: FileSignatureSetSummary,
  listColumns: () => {
    const { signatures: _, ...columns } = getTableColumns(t);
    return { ...columns, spec: sql`${t.spec} - 'content' - 'signatures' - 'apiVersion'`.mapWith(t.spec) };
  },
  // The effective set is named by bundles: a change marks them stale, so clusters get a new revision and ETag.
  feedsBundles: true,
  rights: { view: 'fileThreatProtection.view', manage: 'fileThreatProtection.manage' },
  filters: {
    name: nameFilter(t),
    format: (value) => {
      if (!FORMATS.includes(value)) throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter: 'format', detail: `must be one of ${FORMATS.join(', ')}` }] });
      return specContains(t, { format: value });
    },
  },
  wireExtras: (row) => ({ revision: row.version, signatureCount: row.signatureCount, digest: row.digest }),
  beforeWrite: async (_ctx, spec) => void imported.set(spec, await importSet(spec)),
  columns: (spec) => {
    const set = imported.get(spec);
    if (!set) throw new Error('a signature set is stored only after beforeWrite imported it');
    return { signatures: set.signatures, signatureCount: set.signatures.length, digest: set.digest };
  },
  afterWrite: (ctx) => recomputeEffective(ctx.tx, ctx.principal.tenantId),
  afterDelete: (ctx) => recomputeEffective(ctx.tx, ctx.principal.tenantId),
};

export interface FileSignatureRouteDeps {
  service: SignatureSetService;
  agentOnly: MiddlewareHandler<AppEnv>;
}

export function registerFileSignatureRoutes(app: Hono<AppEnv>, deps: FileSignatureRouteDeps): void {
  registerObjectRoutes(app, fileSignatureSetKind);

  /** The effective set's version, digest and size: what bundles name. */
  app.get(EFFECTIVE_SIGNATURES_PATH, requireRight('fileThreatProtection.view'), async (c) => {
    const { tenantId } = c.get('principal');
    const facts = await inTenant(c.get('db'), tenantId, (tx) => effectiveFacts(tx, tenantId));
    c.header('ETag', signaturesEtag(facts.version, facts.digest));
    return c.json(facts);
  });

  /** The effective set itself, a `palisade.dev/signatures/v1` document (`palisade-agent scan --signatures` reads it). */
  app.get(`${EFFECTIVE_SIGNATURES_PATH}/document`, requireRight('fileThreatProtection.view'), async (c) => {
    const { tenantId } = c.get('principal');
    const doc = await inTenant(c.get('db'), tenantId, (tx) => effectiveDocument(tx, tenantId));
    c.header('ETag', signaturesEtag(doc.version, doc.digest));
    return c.body(doc.content, 200, { 'content-type': 'application/json' });
  });

  app.use('/v1/agent/file-signatures', deps.agentOnly);
  app.get('/v1/agent/file-signatures', (c) => serveSignatures(c, deps.service));
}
