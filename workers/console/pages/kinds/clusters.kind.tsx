/** @jsxImportSource hono/jsx */
import { textarea } from '../../fields.tsx';
import { lines, str } from '../../forms.ts';
import type { ResourcePage } from '../resource-kind.ts';
import { name, nameAndDescription, optional, when } from './common.tsx';

export const clusters: ResourcePage = {
  path: '/clusters',
  api: '/v1/clusters',
  title: 'Clusters',
  noun: 'cluster',
  rights: { view: 'clusters.view', manage: 'clusters.manage' },
  columns: [
    ['Name', name],
    ['Labels', (i) => Object.entries(i.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')],
    ['Last change', when],
  ],
  rowLinks: (i) => [[`/clusters/${i.id}/agent`, `Agent of ${i.name}`]],
  form: {
    fromDoc: (doc) => ({ name: doc?.name ?? '', description: doc?.description ?? '', labels: Object.entries(doc?.labels ?? {}).map(([k, v]) => `${k}=${v}`).join('\n') }),
    toDoc: (raw) => ({
      name: str(raw.name),
      ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
      labels: Object.fromEntries(lines(raw.labels).map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')])),
    }),
    render: (ctx, raw) => (
      <>
        {nameAndDescription(ctx, raw)}
        {textarea(ctx, { name: 'labels', label: 'Labels, key=value one a line', pointer: '/labels', value: str(raw.labels) })}
      </>
    ),
  },
};
