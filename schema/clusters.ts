import { z } from 'zod';
import { Description, Labels, Metadata } from './common.ts';

/** Cluster names are DNS labels so that scope masks like `prod-*` work on them. */
export const ClusterName = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lowercase letters, digits and `-`');

export const ClusterInput = z
  .strictObject({ name: ClusterName, description: Description.optional(), labels: Labels.optional() })
  .meta({ id: 'ClusterInput' });
export type ClusterInput = z.infer<typeof ClusterInput>;

export const Cluster = ClusterInput.extend(Metadata.shape).meta({ id: 'Cluster' });
export type Cluster = z.infer<typeof Cluster>;
