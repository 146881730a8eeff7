import type { Context, Hono } from 'hono';
import { requireRight } from '../auth/principal.ts';
import type { AppEnv } from '../app-env.ts';
import { markTenantBundlesStale, markTenantBundlesStaleSql } from '../bundles/bundle.store.ts';
import { inTenant, type Tx } from '../db/db.ts';
import { readJson, validate } from '../http/body.ts';
import { checkIfMatch, etagOf } from '../http/etag.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { encodeCursor, parsePage } from '../http/pagination.ts';
import { applyMergePatch } from './merge-patch.ts';
import type { ObjectKind, ObjectRow, WriteContext } from './object-kind.ts';
import { deleteObject, getObject, insertObject, readObject, listObjects, updateObject, type Folded } from './objects.store.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MERGE_PATCH = /^application\/(?:merge-patch\+)?json\s*(?:;|$)/i;
const RESERVED_QUERY = new Set(['limit', 'cursor']);

/** The wire document: id, the stored document, server metadata, and kind-specific extras. */
export function toWire(kind: ObjectKind, row: ObjectRow, extra?: Record<string, unknown>): Record<string, unknown> {
  return {
    id: row.id,
    ...(row.spec as object),
    ...kind.wireExtras?.(row),
    ...extra,
    createdAt: new Date(row.createdAt).toISOString(),
    updatedAt: new Date(row.updatedAt).toISOString(),
    createdBy: row.createdBy,
    updatedBy: row.updatedBy,
  };
}

/** The stored document as a client would send it back (for merge patches). */
function editable(row: ObjectRow): unknown {
  return structuredClone(row.spec);
}

function respond(c: Context, kind: ObjectKind, row: ObjectRow, status: 200 | 201 = 200, extra?: Record<string, unknown>) {
  c.header('ETag', etagOf(row.version));
  if (status === 201) c.header('Location', `${kind.path}/${row.id}`);
  return c.json(toWire(kind, row, extra), status);
}

const registered = new WeakMap<object, ObjectKind[]>();
/** The kinds registered on an app, in order; the API description derives their routes from them. */
export const registeredKinds = (app: object): readonly ObjectKind[] => registered.get(app) ?? [];

/** Registers list, create, get, replace, patch and delete for one kind of tenant object. */
export function registerObjectRoutes(app: Hono<AppEnv>, kind: ObjectKind): void {
  if (kind.extras && !kind.write) throw new Error(`${kind.noun}: a kind with read extras writes through write(), which returns them`);
  registered.set(app, [...registeredKinds(app), kind]);
  const { path } = kind;
  const view = requireRight(kind.rights.view);
  const manage = requireRight(kind.rights.manage);

  /** The row the path's id names, when it is one the caller may see; 404 otherwise (also for an id that is no UUID). */
  async function found<T extends { row?: ObjectRow }>(c: Context<AppEnv>, principal: WriteContext['principal'], read: (id: string) => Promise<T>): Promise<T & { row: ObjectRow }> {
    const id = c.req.param('id') ?? '';
    const result = UUID.test(id) ? await read(id) : undefined;
    if (!result?.row || kind.hidden?.(principal, result.row)) throw notFound(`${kind.noun} ${id}`);
    return result as T & { row: ObjectRow };
  }

  async function load(c: Context<AppEnv>, ctx: WriteContext, lock?: 'update'): Promise<ObjectRow> {
    return (await found(c, ctx.principal, async (id) => ({ row: await getObject(ctx.tx, ctx.principal.tenantId, kind, id, lock) }))).row;
  }

  /**
   * A write transaction; for kinds bundles draw on it also marks the tenant's bundles stale, and tells caches after
   * commit. `fn` is handed the mark to fold into the statement that writes the object's row (`stale`, undefined for
   * other kinds); when that statement did not run it, it runs on its own at the end.
   */
  async function write<T>(c: Context<AppEnv>, fn: (tx: Tx, stale: Folded | undefined) => Promise<T>): Promise<T> {
    const { tenantId } = c.get('principal');
    const result = await inTenant(c.get('db'), tenantId, async (tx) => {
      const stale = kind.feedsBundles ? { sql: markTenantBundlesStaleSql(tenantId), done: false } : undefined;
      const out = await fn(tx, stale);
      if (stale && !stale.done) await markTenantBundlesStale(tx, tenantId);
      return out;
    });
    if (kind.feedsBundles) c.get('changes').tenantChanged(tenantId);
    return result;
  }

  /**
   * The mark rides on the row's own statement only when that is the transaction's last write: an `after` hook writes
   * more (and may wait for row locks), which must happen before the compile lock is taken (see compileLock); then the
   * hook is handed the mark instead, to fold into its own last write.
   */
  const foldUnless = (after: unknown, stale: Folded | undefined) => (after ? undefined : stale);

  /** The kind's extras as SQL over the CTE of the rows read, when it has any. */
  const extrasSql = (principal: WriteContext['principal']) => {
    const extras = kind.extras;
    return extras ? (rows: object) => extras.sql(principal, rows, new Date()) : undefined;
  };

  const answer = (w: { row: ObjectRow<unknown>; extra?: Record<string, unknown> }) => [w.row as ObjectRow, w.extra] as const;

  function writable(row: ObjectRow) {
    const reason = kind.readOnly?.(row);
    if (reason) throw new PalisadeError('immutable', reason);
  }

  app.get(path, view, async (c) => {
    const query = c.req.query();
    const page = parsePage(query);
    const unknown = Object.keys(query).filter((k) => !RESERVED_QUERY.has(k) && !kind.filters?.[k]);
    if (unknown.length > 0) {
      throw new PalisadeError('invalid_parameters', 'unknown query parameters', {
        errors: unknown.map((parameter) => ({ parameter, detail: `not a filter; use one of ${Object.keys(kind.filters ?? {}).join(', ') || 'none'}` })),
      });
    }
    // Postgres text cannot hold NUL; refuse it here rather than fail the query.
    const nul = Object.keys(query).filter((k) => query[k]!.includes('\u0000'));
    if (nul.length > 0) {
      throw new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: nul.map((parameter) => ({ parameter, detail: 'must not hold NUL characters' })) });
    }
    const conditions = Object.entries(query).flatMap(([k, v]) => {
      const condition = kind.filters?.[k]?.(v);
      return condition ? [condition] : [];
    });
    const principal = c.get('principal');
    const { rows, more, extras: value } = await inTenant(c.get('db'), principal.tenantId, (tx) => listObjects(tx, principal.tenantId, kind, page, conditions, extrasSql(principal)));
    const visible = rows.filter((r) => !kind.hidden?.(principal, r));
    const extras = kind.extras?.of(principal, visible, value);
    const last = rows.at(-1);
    return c.json({ items: visible.map((r) => toWire(kind, r, extras?.get(r.id))), ...(more && last ? { nextCursor: encodeCursor(last.id) } : {}) });
  });

  if (!kind.customCreate) app.post(path, manage, async (c) => {
    const principal = c.get('principal');
    const parsed = await validate(kind.input, await readJson(c));
    const spec = kind.normalize?.(parsed) ?? parsed;
    const [row, extra] = await write(c, async (tx, stale) => {
      const ctx = { tx, principal };
      if (kind.write) return answer(await kind.write(ctx, spec, undefined, stale));
      await kind.beforeWrite?.(ctx, spec, undefined);
      const created = await insertObject(tx, kind, spec, principal, {}, foldUnless(kind.afterWrite, stale));
      await kind.afterWrite?.(ctx, created, undefined, stale);
      return [created, undefined] as const;
    });
    return respond(c, kind, row, 201, extra);
  });

  app.get(`${path}/:id`, view, async (c) => {
    const principal = c.get('principal');
    const extras = extrasSql(principal);
    const { row, value } = await found(c, principal, (id) => inTenant(c.get('db'), principal.tenantId, (tx) => readObject(tx, principal.tenantId, kind, id, extras)));
    return respond(c, kind, row, 200, kind.extras?.of(principal, [row], value).get(row.id));
  });

  const replace = (patch: boolean) => async (c: Context<AppEnv>) => {
    const principal = c.get('principal');
    const body = await readJson(c, patch ? MERGE_PATCH : undefined);
    const [row, extra] = await write(c, async (tx, stale) => {
      const ctx = { tx, principal };
      const previous = await load(c, ctx, 'update');
      writable(previous);
      checkIfMatch(c, previous.version);
      const parsed = await validate(kind.input, patch ? applyMergePatch(editable(previous), body) : body);
      const spec = kind.normalize?.(parsed) ?? parsed;
      if (kind.write) return answer(await kind.write(ctx, spec, previous, stale));
      await kind.beforeWrite?.(ctx, spec, previous);
      const updated = await updateObject(tx, kind, previous, spec, principal, foldUnless(kind.afterWrite, stale));
      await kind.afterWrite?.(ctx, updated, previous, stale);
      return [updated, undefined] as const;
    });
    return respond(c, kind, row, 200, extra);
  };
  app.put(`${path}/:id`, manage, replace(false));
  app.patch(`${path}/:id`, manage, replace(true));

  app.delete(`${path}/:id`, manage, async (c) => {
    const principal = c.get('principal');
    await write(c, async (tx, stale) => {
      const ctx = { tx, principal };
      const row = await load(c, ctx, 'update');
      writable(row);
      checkIfMatch(c, row.version);
      await kind.beforeDelete?.(ctx, row);
      await deleteObject(tx, row, kind, foldUnless(kind.afterDelete, stale));
      await kind.afterDelete?.(ctx, row);
    });
    return c.body(null, 204);
  });
}
