
import { boolean, jsonb, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import type { AssurancePolicySpec } from '../assurance-policies.ts';
import type { Finding, ScannerFormat, Severity } from '../scan-reports/finding.ts';
import { objectColumns, tenantId, tenantPolicy, timestampColumn, listOrder } from './common.ts';

/** Image assurance policies: the rules that turn scan findings into compliance (workers/assurance/). */
export const assurancePolicies = pgTable(
  'assurance_policies',
  { ...objectColumns<AssurancePolicySpec>(), enabled: boolean('enabled').notNull() },
  (t) => [uniqueIndex('assurance_policies_tenant_name').on(t.tenantId, t.name), listOrder('assurance_policies', t), tenantPolicy('assurance_policies')],
).enableRLS();

/**
 * The latest scan report per image digest (what runs is the digest, so findings belong to it, whichever repository
 * names it). Kept when no registered image has the digest yet: a later registration picks it up.
 */
export const imageScans = pgTable(
  'image_scans',
  {
    tenantId: tenantId(),
    digest: text('digest').notNull(),
    format: text('format').$type<ScannerFormat>().notNull(),
    scannerName: text('scanner_name').notNull(),
    scannerVersion: text('scanner_version').notNull(),
    scannedAt: timestampColumn('scanned_at').notNull(),
    receivedAt: timestampColumn('received_at').notNull().defaultNow(),
    reference: text('reference'),
    counts: jsonb('counts').$type<Record<Severity, number>>().notNull(),
    findings: jsonb('findings').$type<Finding[]>().notNull(),
    receivedBy: text('received_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.digest] }), tenantPolicy('image_scans')],
).enableRLS();

