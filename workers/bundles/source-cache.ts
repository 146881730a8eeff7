/**
 * The rows a bundle draws on, remembered per tenant by this instance with the marker each was read at, so that a
 * refresh transfers and parses only the rows that changed since the last one (and the fragments rendered from the
 * unchanged ones, keyed by the row object, stay valid: see `FragmentMemo` in bundle.compile.ts).
 *
 * The marker is the row version as Postgres itself has it: `xmin` (the transaction that wrote this version of the row)
 * with `ctid` (where the version lives). Every UPDATE, by any writer (the API, a job, a hand-run statement), writes a
 * new version with the writing transaction's id, so a row whose marker matches is the row as cached; an application
 * counter (`version`, `updated_at`) would miss writers that forget it. A false match would need the same row to get
 * the same transaction id again (2^32 transactions later) at the same tuple slot while this instance kept it.
 *
 * Nothing here is trusted without the database: every refresh reads the markers of the tenant's rows in its own
 * transaction (under row-level security) and fetches what differs. Rows of a tenant are only ever looked up under that
 * tenant. Bounded: at most `maxTenants` tenants and `maxRows` rows, least recently refreshed tenants dropped first.
 * Plain Maps only (no Node API): one per BundleService, so per isolate on Workers.
 */
type Table = { fingerprint: string | undefined; byId: Map<string, { marker: string; row: object }>; rows: object[] };

export class SourceRowCache {
  readonly #tenants = new Map<string, Map<string, Table>>();
  #rows = 0;
  /** Rows fetched with their contents, and rows reused, since creation (tests and benchmarks). */
  fetched = 0;
  reused = 0;

  /** Defaults sized for a Workers isolate (128 MB): 10,000 rows of a few KB parsed, plus their rendered fragments. */
  constructor(readonly maxTenants = 32, readonly maxRows = 10_000) {}

  /** The cached rows of one source of a tenant (id → marker and row, the rows in a list, the source's fingerprint). */
  table<R extends object>(tenantId: string, source: string): { fingerprint: string | undefined; byId: ReadonlyMap<string, { marker: string; row: R }>; rows: R[] } | undefined {
    return this.#tenants.get(tenantId)?.get(source) as never;
  }

  /** Replaces one source of a tenant (rows gone from it are dropped); the tenant becomes the most recent. */
  store(tenantId: string, source: string, fingerprint: string | undefined, rows: Map<string, { marker: string; row: object }>): void {
    let tenant = this.#tenants.get(tenantId);
    if (tenant) this.#tenants.delete(tenantId);
    else tenant = new Map();
    this.#tenants.set(tenantId, tenant);
    this.#rows += rows.size - (tenant.get(source)?.byId.size ?? 0);
    tenant.set(source, { fingerprint, byId: rows, rows: [...rows.values()].map((e) => e.row) });
    // The tenant just stored is the most recent, so it goes last: only when it alone is over the row bound.
    while ((this.#tenants.size > this.maxTenants || this.#rows > this.maxRows) && this.#tenants.size > 0) {
      const [oldest, dropped] = this.#tenants.entries().next().value!;
      this.#tenants.delete(oldest);
      for (const t of dropped.values()) this.#rows -= t.byId.size;
    }
  }

  /** Drops what is held for a tenant (its data can always be read again). */
  forget(tenantId: string): void {
    const tenant = this.#tenants.get(tenantId);
    if (!tenant) return;
    this.#tenants.delete(tenantId);
    for (const t of tenant.values()) this.#rows -= t.byId.size;
  }

  /** Rows held, for tests. */
  get size(): number {
    return this.#rows;
  }
}

/**
 * One source of a tenant through the cache. `fingerprint`: a digest of the source's (id, marker) pairs the database
 * computed just before; when it equals the one stored with the cached rows, nothing was added, changed or removed since
 * (markers never come back), and the cached list is returned as is (the same array). Otherwise, with nothing cached,
 * `all` (rows with their markers); with rows cached, `markers` (ids and markers only) and `some` for the ids whose
 * marker differs. Rows keep their object identity while unchanged.
 */
export async function cachedRows<R extends { id: string }>(
  cache: SourceRowCache | undefined,
  tenantId: string,
  source: string,
  fingerprint: string | undefined,
  q: { all: () => Promise<Array<R & { marker: string }>>; markers: () => Promise<Array<{ id: string; marker: string }>>; some: (ids: string[]) => Promise<Array<R & { marker: string }>> },
): Promise<R[]> {
  const strip = ({ marker, ...row }: R & { marker: string }) => ({ marker, row: row as unknown as R });
  const known = cache?.table<R>(tenantId, source);
  if (cache && known && fingerprint !== undefined && known.fingerprint === fingerprint) {
    cache.reused += known.rows.length;
    return known.rows;
  }
  if (!cache || !known || known.byId.size === 0) {
    const rows = (await q.all()).map(strip);
    if (!cache) return rows.map((r) => r.row);
    cache.fetched += rows.length;
    cache.store(tenantId, source, fingerprint, new Map(rows.map((r) => [r.row.id, r])));
    return cache.table<R>(tenantId, source)?.rows ?? rows.map((r) => r.row);
  }
  const markers = await q.markers();
  const missing = markers.filter((m) => known.byId.get(m.id)?.marker !== m.marker).map((m) => m.id);
  const fetched = new Map(missing.length === 0 ? [] : (await q.some(missing)).map((r) => [r.id, strip(r)]));
  const next = new Map<string, { marker: string; row: R }>();
  for (const m of markers) {
    // A row fetched again comes with the marker it was read at (it may have changed once more in between).
    const entry = fetched.get(m.id) ?? (known.byId.get(m.id)?.marker === m.marker ? known.byId.get(m.id) : undefined);
    if (entry) next.set(m.id, entry);
  }
  cache.fetched += fetched.size;
  cache.reused += next.size - fetched.size;
  cache.store(tenantId, source, fingerprint, next);
  return cache.table<R>(tenantId, source)?.rows ?? [...next.values()].map((e) => e.row);
}
