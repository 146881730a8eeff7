/** @jsxImportSource hono/jsx */
import { listErrors, select, text, textarea, toggle } from '../../fields.tsx';
import { checked, lines, obj, str, type Raw } from '../../forms.ts';
import { fmtTime } from '../../ui.tsx';
import type { Item, ResourcePage } from '../resource-kind.ts';
import { flag, name, nameAndDescription, optional, when } from './common.tsx';

const REGISTRY_TYPES = ['generic', 'dockerHub', 'harbor', 'gitlab', 'quay', 'jfrog', 'nexus', 'ecr', 'gcr', 'acr'];

function syncDoc(raw: Raw) {
  const s = obj(raw.sync);
  // A number field left empty takes the API's default; other text goes as a number (NaN too) for the API to judge.
  const field = (k: string) => (str(s[k]).trim() === '' ? {} : { [k]: Number(str(s[k]).trim()) });
  const repositories = lines(s.repositories);
  return { enabled: checked(s.enabled), ...field('intervalMinutes'), ...(repositories.length ? { repositories } : {}), ...field('maxRepositories'), ...field('maxTagsPerRepository') };
}

/** Credentials are write-only: blank fields keep what is stored, the checkbox removes it. */
function credentialsDoc(raw: Raw) {
  const c = obj(raw.credentials);
  if (checked(c.remove)) return { credentials: null };
  if (str(c.username) === '' && str(c.password) === '') return {};
  return { credentials: { username: str(c.username), password: str(c.password) } };
}

const syncState = (i: Item) => (i.sync?.enabled ? `every ${i.sync.intervalMinutes} min${i.syncStatus ? `; last ${i.syncStatus.state} at ${fmtTime(i.syncStatus.finishedAt)}` : ''}` : 'off');

export const registries: ResourcePage = {
  path: '/registries',
  api: '/v1/registries',
  title: 'Registries',
  noun: 'registry',
  rights: { view: 'registries.view', manage: 'registries.manage' },
  columns: [
    ['Name', name],
    ['URL', (i) => i.url],
    ['Type', (i) => i.type],
    ['Sync', syncState],
    ['Last change', when],
  ],
  form: {
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      url: doc?.url ?? '',
      type: doc?.type ?? 'generic',
      credentialsSet: flag(doc?.credentialsSet),
      credentials: { username: '', password: '', remove: '' },
      sync: {
        enabled: flag(doc?.sync?.enabled),
        intervalMinutes: String(doc?.sync?.intervalMinutes ?? 60),
        repositories: ((doc?.sync?.repositories as string[]) ?? []).join('\n'),
        maxRepositories: String(doc?.sync?.maxRepositories ?? 100),
        maxTagsPerRepository: String(doc?.sync?.maxTagsPerRepository ?? 100),
      },
    }),
    toDoc: (raw) => ({
      name: str(raw.name),
      ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
      url: str(raw.url).trim(),
      type: str(raw.type),
      ...credentialsDoc(raw),
      sync: syncDoc(raw),
    }),
    render: (ctx, raw) => {
      const c = obj(raw.credentials);
      const s = obj(raw.sync);
      const stored = checked(raw.credentialsSet);
      return (
        <>
          {nameAndDescription(ctx, raw)}
          {text(ctx, { name: 'url', label: 'Registry (host[:port][/path])', pointer: '/url', value: str(raw.url), hint: 'e.g. ghcr.io/acme' })}
          {select(ctx, { name: 'type', label: 'Type', pointer: '/type', value: str(raw.type), options: REGISTRY_TYPES.map((t): [string, string] => [t, t]) })}
          <fieldset class="section">
            <legend>Credentials</legend>
            <input type="hidden" name="credentialsSet" value={str(raw.credentialsSet)} />
            <p class="hint">{stored ? 'Credentials are stored (encrypted; never shown). Leave both fields empty to keep them.' : 'None stored. Needed only for syncing a private registry.'}</p>
            {listErrors(ctx, '/credentials')}
            {text(ctx, { name: 'credentials.username', label: 'Username', pointer: '/credentials/username', value: str(c.username), autocomplete: 'off' })}
            {text(ctx, { name: 'credentials.password', label: 'Password or token', pointer: '/credentials/password', value: '', type: 'password', autocomplete: 'new-password' })}
            {stored && (
              <label class="check">
                <input type="checkbox" id="f-credentials-remove" name="credentials.remove" value="true" checked={checked(c.remove)} /> Remove the stored credentials
              </label>
            )}
          </fieldset>
          <fieldset class="section">
            <legend>Sync</legend>
            {toggle(ctx, { name: 'sync.enabled', label: 'Register images found in this registry', pointer: '/sync/enabled', on: checked(s.enabled) })}
            {listErrors(ctx, '/sync')}
            {text(ctx, { name: 'sync.intervalMinutes', label: 'Minutes between syncs (5 to 10080)', pointer: '/sync/intervalMinutes', value: str(s.intervalMinutes), type: 'number' })}
            {textarea(ctx, { name: 'sync.repositories', label: 'Repositories, one a line (optional)', pointer: '/sync/repositories', value: str(s.repositories), hint: 'Paths below the host, e.g. acme/web; the catalog is read when empty' })}
            {text(ctx, { name: 'sync.maxRepositories', label: 'At most this many repositories a sync', pointer: '/sync/maxRepositories', value: str(s.maxRepositories), type: 'number' })}
            {text(ctx, { name: 'sync.maxTagsPerRepository', label: 'At most this many tags a repository', pointer: '/sync/maxTagsPerRepository', value: str(s.maxTagsPerRepository), type: 'number' })}
          </fieldset>
        </>
      );
    },
  },
};
