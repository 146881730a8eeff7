/** @jsxImportSource hono/jsx */
import { listErrors, RowButton, select, text } from '../../fields.tsx';
import { rows, str } from '../../forms.ts';
import type { ResourcePage } from '../resource-kind.ts';
import { nameAndDescription, name, optional, when } from './common.tsx';

export const scopes: ResourcePage = {
  path: '/scopes',
  api: '/v1/scopes',
  title: 'Scopes',
  noun: 'scope',
  rights: { view: 'scopes.view', manage: 'scopes.manage' },
  columns: [
    ['Name', name],
    ['Resources', (i) => (i.resources as Array<Record<string, string>>).map((r) => (r.type === 'registry' ? `registry ${r.registry}` : r.type === 'namespace' ? `${r.cluster}/${r.namespace}` : `cluster ${r.cluster}`)).join(', ') || (i.global ? 'everything' : '')],
    ['Last change', when],
  ],
  form: {
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      resources: ((doc?.resources as Array<Record<string, string>>) ?? [{ type: 'cluster', cluster: '' }]).map((r) => ({ type: r.type!, cluster: r.cluster ?? '', namespace: r.namespace ?? '', registry: r.registry ?? '' })),
    }),
    toDoc: (raw) => ({
      name: str(raw.name),
      ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
      resources: rows(raw.resources).map((r) =>
        str(r.type) === 'registry' ? { type: 'registry', registry: str(r.registry).trim() } : str(r.type) === 'namespace' ? { type: 'namespace', cluster: str(r.cluster).trim(), namespace: str(r.namespace).trim() } : { type: 'cluster', cluster: str(r.cluster).trim() },
      ),
    }),
    blank: () => ({ type: 'cluster', cluster: '', namespace: '', registry: '' }),
    render: (ctx, raw) => (
      <>
        {nameAndDescription(ctx, raw)}
        <fieldset class="section">
          <legend>Resources</legend>
          {listErrors(ctx, '/resources')}
          {rows(raw.resources).map((r, i) => (
            <div class="row" role="group" aria-label={`Resource ${i + 1}`}>
              {select(ctx, { name: `resources.${i}.type`, label: 'Type', pointer: `/resources/${i}/type`, value: str(r.type), options: [['cluster', 'Cluster'], ['namespace', 'Namespace'], ['registry', 'Registry']] })}
              {text(ctx, { name: `resources.${i}.cluster`, label: 'Cluster (masks with *)', pointer: `/resources/${i}/cluster`, value: str(r.cluster) })}
              {text(ctx, { name: `resources.${i}.namespace`, label: 'Namespace (namespace type)', pointer: `/resources/${i}/namespace`, value: str(r.namespace) })}
              {text(ctx, { name: `resources.${i}.registry`, label: 'Registry (registry type)', pointer: `/resources/${i}/registry`, value: str(r.registry) })}
              <RowButton action={`remove:resources.${i}`} label={`Remove resource ${i + 1}`} cls="link" />
            </div>
          ))}
          <RowButton action="add:resources" label="Add resource" />
        </fieldset>
      </>
    ),
  },
};
