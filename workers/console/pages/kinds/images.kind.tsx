/** @jsxImportSource hono/jsx */
import { refOptions, select, text, textarea } from '../../fields.tsx';
import { isoToLocal, lines, localToIso, str } from '../../forms.ts';
import { fmtTime } from '../../ui.tsx';
import type { ResourcePage } from '../resource-kind.ts';
import { name } from './common.tsx';

const COMPLIANCE: Array<[string, string]> = [
  ['notScanned', 'Not scanned'],
  ['compliant', 'Compliant'],
  ['nonCompliant', 'Non-compliant'],
];

/**
 * The image inventory: registered by hand here, by an integration or by registry sync. An image is a repository and
 * a digest; its compliance is decided by image assurance once a scan report for the digest is stored.
 */
export const images: ResourcePage = {
  path: '/images',
  api: '/v1/images',
  title: 'Images',
  noun: 'image',
  rights: { view: 'images.view', manage: 'images.manage' },
  columns: [
    ['Image', name],
    ['Tags', (i) => (i.tags ?? []).join(', ')],
    ['Compliance', (i) => i.compliance],
    ['Last scan', (i) => fmtTime(i.lastScanAt)],
  ],
  form: {
    // The registry drop-down only for whoever may see registries; a reference already set is kept either way.
    refs: async (api, rights) => (rights.has('registries.view') ? { registries: await api.all('/v1/registries') } : {}),
    fromDoc: (doc) => ({
      reference: doc?.reference ?? '',
      digest: doc?.digest ?? '',
      tags: ((doc?.tags as string[]) ?? []).join('\n'),
      registryId: doc?.registryId ?? '',
      compliance: doc?.compliance ?? 'notScanned',
      lastScanAt: isoToLocal(doc?.lastScanAt),
    }),
    toDoc: (raw) => {
      const lastScanAt = localToIso(str(raw.lastScanAt).trim());
      return {
        reference: str(raw.reference).trim(),
        digest: str(raw.digest).trim(),
        tags: lines(raw.tags),
        ...(str(raw.registryId) ? { registryId: str(raw.registryId) } : {}),
        compliance: str(raw.compliance) || 'notScanned',
        ...(lastScanAt ? { lastScanAt } : {}),
      };
    },
    render: (ctx, raw, refs) => (
      <>
        {text(ctx, { name: 'reference', label: 'Image reference', pointer: '/reference', value: str(raw.reference), required: true, hint: 'e.g. ghcr.io/acme/web or nginx; a tag in it is added to the tags' })}
        {text(ctx, { name: 'digest', label: 'Digest', pointer: '/digest', value: str(raw.digest), required: true, hint: 'sha256: followed by 64 lowercase hex characters' })}
        {textarea(ctx, { name: 'tags', label: 'Tags, one a line', pointer: '/tags', value: str(raw.tags) })}
        {(refs.registries || str(raw.registryId)) &&
          select(ctx, {
            name: 'registryId',
            label: 'Registry (optional)',
            pointer: '/registryId',
            value: str(raw.registryId),
            options: [['', '(none)'], ...refOptions(refs.registries, [str(raw.registryId)], (r) => `${r.name} (${r.url})`)],
          })}
        {select(ctx, { name: 'compliance', label: 'Compliance', pointer: '/compliance', value: str(raw.compliance), options: COMPLIANCE, hint: 'Counts only until a scan report for this digest is stored; image assurance decides from then on.' })}
        {text(ctx, { name: 'lastScanAt', label: 'Last scan (UTC, optional)', pointer: '/lastScanAt', value: str(raw.lastScanAt), type: 'datetime-local' })}
      </>
    ),
  },
};
