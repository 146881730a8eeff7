import { and, count, eq, inArray, sql } from 'drizzle-orm';
import type { Context } from 'hono';
import { Webhook, WebhookInput } from '../../schema/webhooks.ts';
import { clusters, runtimePolicies, webhooks } from '../../schema/tables/index.ts';
import type { FieldError } from '../../schema/problem.ts';
import type { AppEnv } from '../app-env.ts';
import type { Tx } from '../db/db.ts';
import { notFound, PalisadeError } from '../http/errors.ts';
import { booleanFilter, nameFilter, UUID_PATTERN } from '../objects/filters.ts';
import type { ObjectKind, WriteContext } from '../objects/object-kind.ts';
import { urlProblem } from './ssrf.ts';

export interface WebhookSettings {
  /** Development only (PALISADE_WEBHOOKS_ALLOW_LOOPBACK): receivers on loopback addresses, over http too. */
  allowLoopback: boolean;
  now: () => Date;
  /** Tells the dispatcher that deliveries are due now (Node: its loop; Workers: a Queue message). */
  wake?: () => void | Promise<void>;
}

const iso = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string).toISOString());

/** The referenced policies and clusters exist in the tenant (events of others could never match). */
async function checkReferences({ tx, principal }: WriteContext, spec: WebhookInput): Promise<void> {
  const errors: FieldError[] = [];
  const check = async (ids: string[] | undefined, table: typeof clusters | typeof runtimePolicies, member: string, noun: string) => {
    if (!ids?.length) return;
    const found = await tx.select({ id: table.id }).from(table).where(and(eq(table.tenantId, principal.tenantId), inArray(table.id, ids)));
    const known = new Set(found.map((r) => r.id));
    ids.forEach((id, i) => known.has(id) || errors.push({ pointer: `/filters/${member}/${i}`, detail: `no ${noun} ${id}` }));
  };
  await check(spec.filters.policyIds, runtimePolicies, 'policyIds', 'runtime policy');
  await check(spec.filters.clusterIds, clusters, 'clusterIds', 'cluster');
  if (errors.length > 0) throw new PalisadeError('unprocessable_references', 'unknown runtime policies or clusters', { errors });
}

/** Write-time URL check (no DNS; the dispatcher checks the resolved addresses before every attempt). */
export function checkUrl(spec: WebhookInput, settings: WebhookSettings): void {
  const problem = urlProblem(spec.url, settings);
  if (problem) throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors: [{ pointer: '/url', detail: problem }] });
}

export const WEBHOOKS_PATH = '/v1/webhooks';

/** Endpoints per tenant: each may hold dispatcher slots (see claimDue), so a tenant cannot crowd others out by number. */
export const MAX_WEBHOOKS_PER_TENANT = 20;

async function checkCount({ tx, principal }: WriteContext): Promise<void> {
  // Serializes creates per tenant, so two at once cannot both take the last place.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`webhooks:${principal.tenantId}`}))`);
  const [row] = await tx.select({ n: count() }).from(webhooks).where(eq(webhooks.tenantId, principal.tenantId));
  if ((row?.n ?? 0) >= MAX_WEBHOOKS_PER_TENANT) {
    throw new PalisadeError('conflict', `a tenant may have at most ${MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first`, { extensions: { limit: MAX_WEBHOOKS_PER_TENANT } });
  }
}

/**
 * Webhook endpoints as generic objects: list, get, replace, patch, delete. Create is custom (the secret is answered
 * once). `enabled` is also a column, for the dispatcher; turning an endpoint back on clears why it was turned off.
 */
export function webhookKind(settings: WebhookSettings): ObjectKind<typeof WebhookInput> {
  return {
    noun: 'webhook',
    path: WEBHOOKS_PATH,
    table: webhooks,
    input: WebhookInput,
    output: Webhook,
    rights: { view: 'webhooks.view', manage: 'webhooks.manage' },
    customCreate: true,
    columns: (spec) => ({ enabled: spec.enabled, ...(spec.enabled ? { disabledReason: null } : {}) }),
    wireExtras: (row) => {
      const until = row.previousSecretExpiresAt ? Date.parse(row.previousSecretExpiresAt as string) : NaN;
      return { previousSecretExpiresAt: until > settings.now().getTime() ? iso(until) : null, disabledReason: (row.disabledReason as string | null) ?? null };
    },
    filters: { name: nameFilter(webhooks), enabled: booleanFilter('enabled', webhooks.enabled) },
    beforeWrite: async (ctx, spec, previous) => {
      checkUrl(spec, settings);
      await checkReferences(ctx, spec);
      if (!previous) await checkCount(ctx);
    },
  };
}

/** The endpoint `:id` of the caller's tenant, locked when asked; 404 for any other. */
export async function loadWebhook(c: Context<AppEnv>, tx: Tx, lock?: 'update'): Promise<typeof webhooks.$inferSelect> {
  const id = c.req.param('id') ?? '';
  if (!UUID_PATTERN.test(id)) throw notFound(`webhook ${id}`);
  const query = tx.select().from(webhooks).where(and(eq(webhooks.tenantId, c.get('principal').tenantId), eq(webhooks.id, id)));
  const [row] = await (lock ? query.for(lock) : query);
  if (!row) throw notFound(`webhook ${id}`);
  return row;
}

/** Lets the dispatcher know that deliveries are due; a failure only delays them to its next regular pass. */
export async function wake(settings: WebhookSettings): Promise<void> {
  try {
    await settings.wake?.();
  } catch (err) {
    console.error('waking the webhook dispatcher failed:', err);
  }
}
