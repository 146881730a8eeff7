import { and, eq, inArray, lte, sql } from 'drizzle-orm';
import { webhookDeliveries, webhooks } from '../../schema/tables/index.ts';
import type { Db, Tx } from '../db/db.ts';

/**
 * The dispatcher's queries. It works across tenants as `palisade_system`, a role whose policies open only the
 * webhook tables (and nothing a tenant could not see of its own); each query is its own short transaction, and no
 * transaction is held open while a receiver answers.
 */
export function asSystem<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'palisade_system', true)`);
    return fn(tx);
  });
}

export interface ClaimedDelivery {
  id: string;
  tenantId: string;
  webhookId: string;
  payload: unknown;
  /** This attempt's number, 1-based; also the lease: only the claimer's result is recorded. */
  attempts: number;
  url: string;
  secrets: string[];
}

const iso = (d: Date) => d.toISOString();

/** How many attempts may be in flight at once, across every dispatcher: per endpoint and per tenant. */
export interface ClaimCaps {
  perEndpoint: number;
  perTenant: number;
}

const rowsOf = async <T>(tx: Tx, query: ReturnType<typeof sql>) => ((await tx.execute(query)) as unknown as { rows: T[] }).rows;

/**
 * Claims up to `limit` due deliveries of enabled endpoints, fairly: at most the oldest `perEndpoint` of each endpoint
 * and `perTenant` of each tenant, minus what is already in flight there (leased by any dispatcher), taken round-robin
 * across tenants (each tenant's first before any tenant's second). So one tenant's slow receiver or backlog holds at
 * most its own few slots, never the others'. Claims are serialized by an advisory lock (a short transaction), so the
 * caps hold with dispatchers running side by side; `FOR UPDATE SKIP LOCKED` also keeps them from taking the same
 * delivery. Each claim counts the attempt and leases the delivery until `leaseUntil`: a dispatcher that dies mid-send
 * leaves it due again (and no longer in flight) then.
 */
export async function claimDue(db: Db, now: Date, leaseUntil: Date, limit: number, caps: ClaimCaps): Promise<ClaimedDelivery[]> {
  if (limit <= 0) return [];
  return asSystem(db, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('palisade:webhook-claim'))`);
    const at = iso(now);
    const picked = await rowsOf<{ id: string }>(tx, sql`
      with in_flight as (
        select tenant_id, webhook_id from webhook_deliveries where status = 'pending' and lease_until > ${at}::timestamptz
      ), per_endpoint as (select webhook_id, count(*)::int as n from in_flight group by webhook_id
      ), per_tenant as (select tenant_id, count(*)::int as n from in_flight group by tenant_id
      ), candidates as (
        select d.id, d.tenant_id, d.next_attempt_at, coalesce(pe.n, 0) + d.rank as endpoint_rank
        from webhooks w
        left join per_endpoint pe on pe.webhook_id = w.id
        cross join lateral (
          select x.id, x.tenant_id, x.next_attempt_at, row_number() over (order by x.next_attempt_at, x.id) as rank
          from webhook_deliveries x
          where x.webhook_id = w.id and x.status = 'pending' and x.next_attempt_at <= ${at}::timestamptz
          order by x.next_attempt_at, x.id
          limit ${caps.perEndpoint}
        ) d
        where w.enabled and coalesce(pe.n, 0) < ${caps.perEndpoint}
      ), ranked as (
        select c.*, coalesce(pt.n, 0) + row_number() over (partition by c.tenant_id order by c.endpoint_rank, c.next_attempt_at, c.id) as tenant_rank
        from candidates c left join per_tenant pt on pt.tenant_id = c.tenant_id
        where c.endpoint_rank <= ${caps.perEndpoint}
      )
      select id from ranked where tenant_rank <= ${caps.perTenant}
      order by tenant_rank, endpoint_rank, next_attempt_at, id
      limit ${limit}`);
    if (picked.length === 0) return [];
    const due = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(and(inArray(webhookDeliveries.id, picked.map((p) => p.id)), eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, at)))
      .for('update', { skipLocked: true });
    if (due.length === 0) return [];
    const claimed = await tx
      .update(webhookDeliveries)
      .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, lastAttemptAt: at, nextAttemptAt: iso(leaseUntil), leaseUntil: iso(leaseUntil) })
      .where(inArray(webhookDeliveries.id, due.map((d) => d.id)))
      .returning();
    const endpoints = await tx
      .select({ id: webhooks.id, url: sql<string>`${webhooks.spec}->>'url'`, secret: webhooks.secret, previousSecret: webhooks.previousSecret, previousUntil: webhooks.previousSecretExpiresAt })
      .from(webhooks)
      .where(inArray(webhooks.id, [...new Set(claimed.map((d) => d.webhookId))]));
    const byId = new Map(endpoints.map((e) => [e.id, e]));
    return claimed.map((d) => {
      const endpoint = byId.get(d.webhookId)!;
      const rotating = endpoint.previousSecret && endpoint.previousUntil && Date.parse(endpoint.previousUntil) > now.getTime();
      return {
        id: d.id,
        tenantId: d.tenantId,
        webhookId: d.webhookId,
        payload: d.payload,
        attempts: d.attempts,
        url: endpoint.url,
        secrets: rotating ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret],
      };
    });
  });
}

export type Outcome =
  | { kind: 'delivered'; statusCode: number }
  | { kind: 'retry'; statusCode: number | null; error: string | null; at: Date }
  | { kind: 'failed'; statusCode: number | null; error: string | null }
  | { kind: 'gone'; statusCode: number; error: string };

/** Records one attempt's outcome, unless the lease was lost (another dispatcher claimed the delivery since). */
export async function recordOutcome(db: Db, delivery: ClaimedDelivery, outcome: Outcome, now: Date): Promise<void> {
  const mine = and(eq(webhookDeliveries.id, delivery.id), eq(webhookDeliveries.status, 'pending'), eq(webhookDeliveries.attempts, delivery.attempts));
  await asSystem(db, async (tx) => {
    const d = webhookDeliveries;
    if (outcome.kind === 'delivered') {
      await tx.update(d).set({ leaseUntil: null, status: 'delivered', deliveredAt: iso(now), lastStatusCode: outcome.statusCode, lastError: null }).where(mine);
    } else if (outcome.kind === 'retry') {
      await tx.update(d).set({ leaseUntil: null, nextAttemptAt: iso(outcome.at), lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine);
    } else if (outcome.kind === 'failed') {
      await tx.update(d).set({ leaseUntil: null, status: 'failed', lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine);
    } else {
      const updated = await tx.update(d).set({ leaseUntil: null, status: 'failed', lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine).returning({ id: d.id });
      if (updated.length === 0) return;
      const reason = `the endpoint answered 410 Gone at ${iso(now)}`;
      await tx
        .update(webhooks)
        .set({
          enabled: false,
          disabledReason: reason,
          spec: sql`jsonb_set(${webhooks.spec}, '{enabled}', 'false'::jsonb)`,
          version: sql`${webhooks.version} + 1`,
          updatedAt: sql`now()`,
          updatedBy: 'system:webhooks',
        })
        .where(eq(webhooks.id, delivery.webhookId));
      await tx
        .update(d)
        .set({ status: 'failed', lastError: 'not sent: the endpoint was disabled after it answered 410 Gone' })
        .where(and(eq(d.webhookId, delivery.webhookId), eq(d.status, 'pending')));
    }
  });
}

/** When the earliest pending delivery of an enabled endpoint is due, if any (Workers schedules its next wake by it). */
export async function nextDueAt(db: Db): Promise<Date | undefined> {
  const [row] = await asSystem(db, (tx) =>
    tx
      .select({ at: sql<string | null>`min(${webhookDeliveries.nextAttemptAt})` })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(and(eq(webhookDeliveries.status, 'pending'), eq(webhooks.enabled, true))),
  );
  return row?.at ? new Date(row.at) : undefined;
}
