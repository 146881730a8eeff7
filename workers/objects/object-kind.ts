import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { z } from 'zod';
import type { Right } from '../../schema/rights.ts';
import type { Principal } from '../auth/principal.ts';
import type { Tx } from '../db/db.ts';
import type { Folded } from './objects.store.ts';

/** The columns every named tenant object table has (schema/tables/common.ts objectColumns). */
export type ObjectTable = PgTable & {
  tenantId: PgColumn;
  id: PgColumn;
  name: PgColumn;
  spec: PgColumn;
  version: PgColumn;
  createdAt: PgColumn;
  updatedAt: PgColumn;
  createdBy: PgColumn;
  updatedBy: PgColumn;
};

export interface ObjectRow<Spec = Record<string, unknown>> {
  tenantId: string;
  id: string;
  name: string;
  spec: Spec;
  version: number;
  createdAt: string;
  updatedAt: string;
  createdBy: string;
  updatedBy: string;
  [column: string]: unknown;
}

export interface WriteContext {
  tx: Tx;
  principal: Principal;
}

/** How one resource (scopes, clusters, policies, ...) plugs into the generic CRUD routes. */
export interface ObjectKind<S extends z.ZodType = z.ZodType> {
  /** Singular noun for messages: "scope", "runtime policy". */
  noun: string;
  path: string;
  table: ObjectTable;
  input: S;
  /** Schema of the wire document (the input plus metadata and extras), for the API description. */
  output?: z.ZodType;
  rights: { view: Right; manage: Right };
  /**
   * What a list reads of each row, when less than the whole: large members (a signature set's content) are left to
   * GET of the one object. `listOutput` describes such a list item for the API description.
   */
  listColumns?(): Record<string, unknown>;
  listOutput?: z.ZodType;
  /** Bundles draw on this kind: a change marks the tenant's bundles stale (in the same transaction). */
  feedsBundles?: boolean;
  /** The kind registers its own POST (API keys return a secret once). */
  customCreate?: boolean;
  /** Stored name, unique per tenant; defaults to `spec.name`. */
  nameOf?(spec: z.output<S>): string;
  /** The body members the stored name is made of, for the pointers of a duplicate's 409; defaults to `/name`. */
  namePointers?: readonly string[];
  /** Turns a validated document into what is stored (e.g. normalized image references). */
  normalize?(spec: z.output<S>): z.output<S>;
  /** Columns derived from the document, for filters. */
  columns?(spec: z.output<S>): Record<string, unknown>;
  /** Members added to the wire document beyond id, spec and metadata. */
  wireExtras?(row: ObjectRow<z.output<S>>): Record<string, unknown>;
  /**
   * Members read from other tables for GET and list, in the statement that reads the rows: `sql` is one value
   * computed from the CTE holding them (`rows`), `of` turns it into each row's members, by object id. A kind with
   * extras writes through `write`, which returns them, so write answers equal what GET shows.
   */
  extras?: {
    sql(principal: Principal, rows: object, now: Date): SQL;
    of(principal: Principal, rows: Array<ObjectRow<z.output<S>>>, value: unknown): Map<string, Record<string, unknown>>;
  };
  /** Query parameter → condition. Throw `invalid_parameters` for a bad value. */
  filters?: Record<string, (value: string) => SQL | undefined>;
  /** Objects some principals must not see at all answer 404 to them. */
  hidden?(principal: Principal, row: ObjectRow<z.output<S>>): boolean;
  /** A reason the object can never be changed or deleted (built-ins). */
  readOnly?(row: ObjectRow<z.output<S>>): string | undefined;
  /**
   * Writes the object's row and all that goes with it (its checks, related rows, the bundles' stale mark `stale`,
   * setting `done`, and the read extras of the answer) itself, in place of beforeWrite, the generic insert or update,
   * afterWrite and readExtras: for a kind whose write would otherwise take several round trips.
   */
  write?(
    ctx: WriteContext,
    spec: z.output<S>,
    previous: ObjectRow<z.output<S>> | undefined,
    stale: Folded | undefined,
  ): Promise<{ row: ObjectRow<z.output<S>>; extra?: Record<string, unknown> }>;
  beforeWrite?(ctx: WriteContext, spec: z.output<S>, previous: ObjectRow<z.output<S>> | undefined): Promise<void>;
  /**
   * Runs after the object's row is written. For kinds that feed bundles `stale` is the bundles' stale mark, not yet
   * run: the hook may fold it into its last write (setting `done`), else the generic path runs it on its own after
   * the hook. Either way it comes after every write that may wait for row locks (see compileLock).
   */
  afterWrite?(ctx: WriteContext, row: ObjectRow<z.output<S>>, previous: ObjectRow<z.output<S>> | undefined, stale?: Folded): Promise<void>;
  beforeDelete?(ctx: WriteContext, row: ObjectRow<z.output<S>>): Promise<void>;
  afterDelete?(ctx: WriteContext, row: ObjectRow<z.output<S>>): Promise<void>;
}
