import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/db.ts';

/**
 * Raises the tenant's change marker; called in the transaction that changes anything an agent poll depends on, so the
 * marker and the change commit together (see `changeMarkers` in schema/tables/agents.ts).
 */
export async function bumpChangeMarker(tx: Tx, tenantId: string): Promise<void> {
  await tx.execute(sql`${bumpChangeMarkerSql(tenantId)}`);
}

/** The marker's upsert as SQL, for callers that fold it into a statement of their own (one round trip less). */
export const bumpChangeMarkerSql = (tenantId: string) => sql`insert into change_markers (tenant_id, marker, changed_xid) values (${tenantId}, 1, pg_current_xact_id())
    on conflict (tenant_id) do update set marker = change_markers.marker + 1, changed_xid = pg_current_xact_id()`;

/** A credential's state as the database has it, with what a 304 needs of its cluster's bundle row. */
export interface StoredAgentState {
  tenantId: string;
  clusterId: string;
  credentialId: string;
  credentialExpiresAt: string | null;
  /** The tenant's change marker in the same snapshot. */
  marker: number;
  bundle: { revision: number; digest: string | null; kid: string | null; issuedAt: string | null; expiresAt: string | null; stale: boolean; signed: boolean } | null;
}

/** Markers written since a watermark, and the watermark to read from next time. */
export interface MarkerDelta {
  watermark: string;
  markers: Array<[string, number]>;
}

const HEX = /^[0-9a-f]{64}$/;

/**
 * One statement (one round trip, row-level security kept: see migrations/0017): the state of the credential whose
 * secret hashes to `keyHash` (undefined: unknown, revoked or expired; also touches its last use), the markers changed
 * since `since`, and the last use of the credentials hashed in `touch` (answered from caches since the last write).
 * Any part may be skipped.
 */
export async function readAgentState(
  db: Db,
  ask: { keyHash?: string; now: Date; since?: string; touch?: string[] },
): Promise<{ state?: StoredAgentState; delta?: MarkerDelta }> {
  const now = ask.now.toISOString();
  const state = ask.keyHash === undefined ? sql`null` : sql`palisade_agent_state(${ask.keyHash}, ${now}::timestamptz)`;
  const delta = ask.since === undefined ? sql`null` : sql`palisade_markers_since(${ask.since}::xid8)`;
  // One array parameter (hashes are hex, so the literal needs no quoting).
  const hashes = (ask.touch ?? []).filter((h) => HEX.test(h));
  const touch = hashes.length === 0 ? sql`null` : sql`palisade_touch_credentials(${`{${hashes.join(',')}}`}::text[], ${now}::timestamptz)`;
  const result = (await db.execute(sql`select ${state} as state, ${delta} as delta, ${touch} as touched`)) as unknown as { rows: Array<{ state: StoredAgentState | string | null; delta: MarkerDelta | string | null }> };
  const row = result.rows[0]!;
  // jsonb arrives parsed from PGlite and node-postgres, as text from drivers that do not parse it.
  const parse = <T>(v: T | string | null): T | undefined => (v === null ? undefined : typeof v === 'string' ? (JSON.parse(v) as T) : v);
  return { state: parse(row.state), delta: parse(row.delta) };
}
