import { sql } from 'drizzle-orm';
import type { Hono } from 'hono';
import { parseImageReference, tryParseImageReference } from '../../schema/image-reference.ts';
import { Compliance, Image, ImageDigest, ImageInput } from '../../schema/images.ts';
import { images } from '../../schema/tables/index.ts';
import type { AppEnv } from '../app-env.ts';
import { PalisadeError } from '../http/errors.ts';
import type { ObjectKind } from '../objects/object-kind.ts';
import { enumFilter } from '../objects/filters.ts';
import { registerObjectRoutes } from '../objects/objects.routes.ts';
import { getObject } from '../objects/objects.store.ts';
import { registryKind } from '../registries/registries.routes.ts';

const badParameter = (parameter: string, detail: string) => new PalisadeError('invalid_parameters', 'invalid query parameters', { errors: [{ parameter, detail }] });

/**
 * The image inventory. A scanner integration registers images and sets their compliance; the reference is stored
 * normalized and the image is identified by repository and digest.
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
  columns: (spec) => ({ compliance: spec.compliance, lastScanAt: spec.lastScanAt === undefined ? null : sql`to_timestamp(${Date.parse(spec.lastScanAt) / 1000})` }),
  wireExtras: (row) => ({ name: row.name }),
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
  beforeWrite: async ({ tx, principal }, spec) => {
    if (spec.registryId === undefined) return;
    const registry = await getObject(tx, principal.tenantId, registryKind, spec.registryId, 'share');
    if (!registry) throw new PalisadeError('unprocessable_references', 'unknown registry', { errors: [{ pointer: '/registryId', detail: `no registry ${spec.registryId}` }] });
  },
};

export const registerImageRoutes = (app: Hono<AppEnv>) => registerObjectRoutes(app, imageKind);
