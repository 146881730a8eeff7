import { integer, jsonb, pgTable, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import type { FileSignatureSetSpec } from '../file-signature-sets.ts';
import type { FileSignature } from '../file-signatures.ts';
import { listOrder, objectColumns, tenantPolicy, timestampColumn } from './common.ts';

/**
 * Signature sets as uploaded (`spec`: the source, ClamAV text or our JSON) with what they imported to (`signatures`),
 * so the effective set is merged without importing every set again.
 */
export const fileSignatureSets = pgTable(
  'file_signature_sets',
  {
    ...objectColumns<FileSignatureSetSpec>(),
    signatures: jsonb('signatures').$type<FileSignature[]>().notNull(),
    signatureCount: integer('signature_count').notNull(),
    /** `sha256:<hex>` of the canonical JSON of `signatures`. */
    digest: text('digest').notNull(),
  },
  (t) => [uniqueIndex('file_signature_sets_tenant_name').on(t.tenantId, t.name), listOrder('file_signature_sets', t), tenantPolicy('file_signature_sets')],
).enableRLS();

/**
 * The tenant's effective set: all its sets merged (canonical JSON in `content`), recomputed in the transaction of every
 * set change; `version` rises only when the digest changes. The signature (`jws`) is made on first download and
 * renewed when half its lifetime is gone or the signing key changed. No row: no set was ever uploaded (EICAR only).
 */
export const fileSignaturesEffective = pgTable(
  'file_signatures_effective',
  {
    tenantId: uuid('tenant_id').primaryKey(),
    version: integer('version').notNull(),
    digest: text('digest').notNull(),
    content: text('content').notNull(),
    signatureCount: integer('signature_count').notNull(),
    bytes: integer('bytes').notNull(),
    jws: text('jws'),
    kid: text('kid'),
    issuedAt: timestampColumn('issued_at'),
    expiresAt: timestampColumn('expires_at'),
    updatedAt: timestampColumn('updated_at').notNull().defaultNow(),
  },
  () => [tenantPolicy('file_signatures_effective')],
).enableRLS();

