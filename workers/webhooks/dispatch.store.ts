import { and, asc, eq, inArray, lte, sql } from 'drizzle-orm';
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

/**
 * Claims up to `limit` due deliveries of enabled endpoints (`FOR UPDATE SKIP LOCKED`, so dispatchers running side by
 * side never take the same one), counts the attempt and leases them until `leaseUntil`: a dispatcher that dies
 * mid-send leaves them due again then.
 */
export async function claimDue(db: Db, now: Date, leaseUntil: Date, limit: number): Promise<ClaimedDelivery[]> {
  return asSystem(db, async (tx) => {
    const due = await tx
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(and(eq(webhookDeliveries.status, 'pending'), lte(webhookDeliveries.nextAttemptAt, iso(now)), eq(webhooks.enabled, true)))
      .orderBy(asc(webhookDeliveries.nextAttemptAt))
      .limit(limit)
      .for('update', { of: webhookDeliveries, skipLocked: true });
    if (due.length === 0) return [];
    const claimed = await tx
      .update(webhookDeliveries)
      .set({ attempts: sql`${webhookDeliveries.attempts} + 1`, lastAttemptAt: iso(now), nextAttemptAt: iso(leaseUntil) })
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
      await tx.update(d).set({ status: 'delivered', deliveredAt: iso(now), lastStatusCode: outcome.statusCode, lastError: null }).where(mine);
    } else if (outcome.kind === 'retry') {
      await tx.update(d).set({ nextAttemptAt: iso(outcome.at), lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine);
    } else if (outcome.kind === 'failed') {
      await tx.update(d).set({ status: 'failed', lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine);
    } else {
      const updated = await tx.update(d).set({ status: 'failed', lastStatusCode: outcome.statusCode, lastError: outcome.error }).where(mine).returning({ id: d.id });
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
