import { z } from 'zod';
import { Id, Metadata, Timestamp } from './common.ts';
import { tryParseImageReference } from './image-reference.ts';
import { ComplianceReason } from './assurance-policies.ts';

export const Compliance = z.enum(['compliant', 'nonCompliant', 'notScanned']);
export type Compliance = z.infer<typeof Compliance>;

export const ImageDigest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256: followed by 64 lowercase hex characters');

export const ImageInput = z
  .strictObject({
    /** Any reference form; stored normalized (`nginx` → `docker.io/library/nginx`). A tag or digest in it is ignored. */
    reference: z.string().min(1).max(4096).refine((r) => tryParseImageReference(r) !== undefined, 'must be an image reference such as ghcr.io/acme/web:1.2'),
    digest: ImageDigest,
    tags: z.array(z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be an image tag')).max(100).default([]),
    registryId: Id.optional(),
    compliance: Compliance.default('notScanned'),
    lastScanAt: Timestamp.optional(),
  })
  .meta({ id: 'ImageInput' });
export type ImageInput = z.input<typeof ImageInput>;
export type ImageSpec = z.output<typeof ImageInput>;

/** What registry sync recorded about an image it registered; absent for images registered by hand. */
export const ImageRegistrySync = z.object({
  registryId: z.uuid(),
  lastSeenAt: Timestamp,
  /** Tags that pointed at this digest and no longer do (marked, not deleted), newest first. */
  removedTags: z.array(z.object({ tag: z.string(), removedAt: Timestamp })),
  /** Set when no listed tag points at the digest any more. */
  missingSince: Timestamp.optional(),
  /** For a platform manifest found through a multi-arch index: the index and the platform. */
  index: z.object({ digest: z.string(), platform: z.string() }).optional(),
});
export type ImageRegistrySync = z.infer<typeof ImageRegistrySync>;

export const Image = ImageInput.extend({
  ...Metadata.shape,
  name: z.string().meta({ description: 'repository@digest' }),
  /**
   * Set by image assurance when a scan report for the digest is stored (the manual value is kept only while none is):
   * `notScanned` is never treated as non-compliant.
   */
  compliance: Compliance,
  complianceReasons: z.array(ComplianceReason),
  compliantUntil: Timestamp.optional(),
  registrySync: ImageRegistrySync.optional(),
}).meta({ id: 'Image' });
export type Image = z.output<typeof Image>;
