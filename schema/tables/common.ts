import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgPolicy, pgRole, text, timestamp, uuid, type AnyPgColumn } from 'drizzle-orm/pg-core';

/** The role every tenant transaction switches to; it is subject to row-level security (see migrations/0000). */
export const appRole = pgRole('palisade_app').existing();

/** `palisade_current_tenant()` reads the transaction-local `app.tenant_id`; unset means no rows. */
export const tenantMatches = sql`tenant_id = palisade_current_tenant()`;

export const tenantPolicy = (table: string) =>
  pgPolicy(`${table}_tenant_isolation`, { as: 'permissive', for: 'all', to: appRole, using: tenantMatches, withCheck: tenantMatches });

export const tenantId = () => uuid('tenant_id').notNull();

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'string', precision: 3 });

/** Columns every named tenant object has; the wire document lives in `spec`, validated by its zod schema. */
export const objectColumns = <Spec>() => ({
  tenantId: tenantId(),
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  spec: jsonb('spec').$type<Spec>().notNull(),
  version: integer('version').notNull().default(1),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  createdBy: text('created_by').notNull(),
  updatedBy: text('updated_by').notNull(),
});

export { ts as timestampColumn };

/**
 * Lists page through a tenant's objects in id order (`where tenant_id = $1 and id > $cursor order by id limit n`):
 * this index answers that with a range scan of one page instead of sorting every object of the tenant.
 */
export const listOrder = (table: string, t: { tenantId: AnyPgColumn; id: AnyPgColumn }) => index(`${table}_tenant_id`).on(t.tenantId, t.id);

/**
 * WITH CHECK of an UPDATE policy that lets the holder of a secret touch its row before the tenant is known: the row
 * keeps its hash and its tenant. The subquery reads the row as it was (the statement's snapshot), through the
 * table's SELECT policies, which show exactly that row.
 */
export const bySecretCheck = (table: string, column: string) =>
  sql.raw(
    `${column} = nullif(current_setting('app.key_hash', true), '') and tenant_id = (select t.tenant_id from ${table} t where t.${column} = nullif(current_setting('app.key_hash', true), ''))`,
  );
