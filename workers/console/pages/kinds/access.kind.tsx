/** @jsxImportSource hono/jsx */
import { checkboxes, select, text } from '../../fields.tsx';
import { list, str } from '../../forms.ts';
import { fmtTime } from '../../ui.tsx';
import type { ResourcePage } from '../resource-kind.ts';
import { name, nameAndDescription, optional } from './common.tsx';

export const apiKeys: ResourcePage = {
  path: '/api-keys',
  api: '/v1/api-keys',
  title: 'API keys',
  noun: 'API key',
  rights: { view: 'apiKeys.view', manage: 'apiKeys.manage' },
  createdMember: 'apiKey',
  rowLinks: (i, rights) => (rights.has('apiKeys.manage') && !i.revokedAt ? [[`/api-keys/${i.id}/revoke`, `Revoke ${i.name}…`]] : []),
  columns: [
    ['Name', name],
    ['Id', (i) => i.id],
    ['Last used', (i) => fmtTime(i.lastUsedAt)],
    ['Status', (i) => (i.revokedAt ? `revoked ${fmtTime(i.revokedAt)}` : i.expiresAt ? `expires ${fmtTime(i.expiresAt)}` : 'active')],
  ],
  form: {
    refs: async (api) => ({ roles: await api.all('/v1/roles') }),
    isList: (p) => p === 'roleIds',
    fromDoc: (doc) => ({ name: doc?.name ?? '', roleIds: doc?.roleIds ?? [], expiresAt: doc?.expiresAt ? String(doc.expiresAt).slice(0, 16) : '' }),
    toDoc: (raw) => ({ name: str(raw.name), roleIds: list(raw.roleIds), ...(str(raw.expiresAt) ? { expiresAt: `${str(raw.expiresAt)}:00Z` } : {}) }),
    render: (ctx, raw, refs) => (
      <>
        {text(ctx, { name: 'name', label: 'Name', pointer: '/name', value: str(raw.name), required: true })}
        {select(ctx, { name: 'roleIds', label: 'Roles (you can grant only rights you hold)', pointer: '/roleIds', value: list(raw.roleIds), multiple: true, options: (refs.roles ?? []).map((r) => [r.id, r.name]) })}
        {text(ctx, { name: 'expiresAt', label: 'Expires (UTC, optional)', pointer: '/expiresAt', value: str(raw.expiresAt), type: 'datetime-local' })}
      </>
    ),
  },
};

/** Custom roles; the form offers only the rights its user holds (the API refuses granting others anyway). */
export const roles: ResourcePage = {
  path: '/roles',
  api: '/v1/roles',
  title: 'Roles',
  noun: 'role',
  rights: { view: 'roles.view', manage: 'roles.manage' },
  columns: [
    ['Name', name],
    ['Built-in', (i) => (i.builtin ? 'yes' : 'no')],
    ['Rights', (i) => (i.rights ?? []).join(', ')],
  ],
  form: {
    isList: (p) => p === 'rights',
    refs: async (_api, rights) => ({ rights: [...rights].map((r) => ({ id: r, name: r })) }),
    fromDoc: (doc) => ({ name: doc?.name ?? '', description: doc?.description ?? '', rights: doc?.rights ?? [] }),
    toDoc: (raw) => ({ name: str(raw.name), ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}), rights: list(raw.rights) }),
    render: (ctx, raw, refs) => (
      <>
        {nameAndDescription(ctx, raw)}
        {checkboxes(ctx, { name: 'rights', label: 'Rights (only those you hold)', pointer: '/rights', value: list(raw.rights), options: (refs.rights ?? []).map((r) => [r.id, r.id]) })}
      </>
    ),
  },
};
