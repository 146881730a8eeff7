import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { parseImageReference, tryParseImageReference } from '../../schema/image-reference.ts';
import { Compliance, Image, ImageDigest, ImageInput, type ImageSpec } from '../../schema/images.ts';
import { images } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { registerScanResultRoutes, type ScanRouteDeps } from './scan-results.routes.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectKind, WriteContext } from '../objects/object-kind.ts';
import { enumFilter } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { getObject } from '../objects/objects.store.ts';
import { registryKind } from '../registries/registries.routes.ts';
import { decisionFor, loadAssuranceContext, loadScans } from '../assurance/compliance.store.ts';
import type { Decision } from '../assurance/decide.ts';

/** The decision made in beforeWrite, for `columns` (which runs synchronously on the same document). */
const decisions = new WeakMap<object, Decision>();

const badParameter = (parameter: string, detail: string) => new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter, detail }] });

/**
 * The image inventory: registered by hand, by an integration or by registry sync (workers/registries/). The reference
 * is stored normalized and the image is identified by repository and digest. Compliance comes from the stored scan of
 * its digest and the assurance policies (workers/assurance/); a `compliance` in the body counts only while no scan
 * report for the digest is stored.
 */
export const imageKind: ObjectKind<typeof ImageInput> = {
  noun: 'image',
  path: '/v1/images',
  table: images,
  input: ImageInput,
  output: Image,
  feedsBundles: true,
  rights: { view: 'images.view', manage: 'images.manage' },
  nameOf: (spec) => `${spec.reference}@${spec.digest}`,
  namePointers: ['/reference', '/digest'],
  normalize: (spec) => {
    const ref = parseImageReference(spec.reference);
    if (ref.digest !== undefined && ref.digest !== spec.digest) {
      throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors: [{ pointer: '/reference', detail: `carries digest ${ref.digest}, which is not /digest` }] });
    }
    const tags = ref.tagExplicit && ref.tag ? [...new Set([...spec.tags, ref.tag])] : spec.tags;
    return { ...spec, reference: ref.name, tags };
  },
  // Postgres gets the instant, not the text: it refuses offsets beyond ±15:59 and year 0, which ISO 8601 allows.
  columns: (spec) => {
    const decided = decisions.get(spec);
    return {
      compliance: spec.compliance,
      lastScanAt: spec.lastScanAt === undefined ? null : sql`to_timestamp(${Date.parse(spec.lastScanAt) / 1000})`,
      complianceReasons: decided?.reasons ?? [],
      compliantUntil: decided?.compliantUntil ?? null,
    };
  },
  wireExtras: (row) => ({
    name: row.name,
    complianceReasons: row.complianceReasons ?? [],
    ...(row.compliantUntil ? { compliantUntil: new Date(row.compliantUntil as string).toISOString() } : {}),
    ...(row.registrySync ? { registrySync: row.registrySync } : {}),
  }),
  filters: {
    compliance: enumFilter('compliance', images.compliance, Compliance.options),
    digest: (digest) => {
      if (!ImageDigest.safeParse(digest).success) throw badParameter('digest', 'must be sha256: followed by 64 lowercase hex characters');
      return sql`${images.spec}->>'digest' = ${digest}`;
    },
    reference: (reference) => {
      const name = tryParseImageReference(reference)?.name;
      if (name === undefined) throw badParameter('reference', 'must be an image reference such as ghcr.io/acme/web');
      return sql`${images.spec}->>'reference' = ${name}`;
    },
  },
  beforeWrite: (ctx, spec) => decideAndCheck(ctx, spec, new Date()),
};

/** A stored scan of the digest decides compliance, whatever the body says (see decisionFor); the registry must exist. */
async function decideAndCheck({ tx, principal }: WriteContext, spec: ImageSpec, now: Date): Promise<void> {
  {
    const scans = await loadScans(tx, principal.tenantId, [spec.digest]);
    const decision = decisionFor(spec, scans.get(spec.digest), await loadAssuranceContext(tx, principal.tenantId), now);
    spec.compliance = decision.compliance;
    if (decision.lastScanAt) spec.lastScanAt = decision.lastScanAt;
    decisions.set(spec, decision);
    if (spec.registryId === undefined) return;
    const registry = await getObject(tx, principal.tenantId, registryKind, spec.registryId, 'share');
    if (!registry) throw new PalisadeError('unprocessable_references', 'unknown registry', { errors: [{ pointer: '/registryId', detail: `no registry ${spec.registryId}` }] });
  }
}

export function registerImageRoutes(app: Hono<AppEnv>, deps: ScanRouteDeps): void {
  registerScanResultRoutes(app, deps);
  const kind: ObjectKind<typeof ImageInput> = { ...imageKind, beforeWrite: (ctx, spec) => decideAndCheck(ctx, spec, deps.now()) };
  registerObjectRoutes(app, kind as ObjectKind);
}
