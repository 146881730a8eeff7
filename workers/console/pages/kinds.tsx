/** @jsxImportSource hono/jsx */
import { checkboxes, listErrors, RowButton, select, text, textarea, toggle, type FormCtx } from '../fields.tsx';
import { checked, lines, list, obj, rows, str, type Raw } from '../forms.ts';
import { fmtTime } from '../ui.tsx';
import type { Item, ResourcePage } from './resource-kind.ts';

const name = (i: Item) => i.name as string;
const when = (i: Item) => `${fmtTime(i.updatedAt)} by ${i.updatedBy}`;
const optional = (v: string) => (v.trim() === '' ? undefined : v.trim());
const flag = (on: boolean | undefined) => (on ? 'true' : '');

function nameAndDescription(ctx: FormCtx, raw: Raw) {
  return (
    <>
      {text(ctx, { name: 'name', label: 'Name', pointer: '/name', value: str(raw.name), required: true })}
      {textarea(ctx, { name: 'description', label: 'Description (optional)', pointer: '/description', value: str(raw.description), rows: 2 })}
    </>
  );
}

const scopes: ResourcePage = {
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

/** A peer line: a CIDR (`10.0.0.0/8`) or a host name, optionally `:ports` (`api.example.com:443`). */
function peer(line: string) {
  const [host, ports] = line.split(/\s+|(?<=[a-z0-9\]])\:(?=[\d,-]+$)/i, 2) as [string, string | undefined];
  const base = host.includes('/') ? { cidr: host } : { fqdn: host };
  return ports ? { ...base, ports: ports.split(',') } : base;
}
const peerLine = (p: Record<string, any>) => `${p.cidr ?? p.fqdn}${p.ports ? ` ${p.ports.join(',')}` : ''}`;

const runtimeProfiles: ResourcePage = {
  path: '/runtime-profiles',
  api: '/v1/runtime-profiles',
  title: 'Runtime profiles',
  noun: 'runtime profile',
  rights: { view: 'runtimeProfiles.view', manage: 'runtimeProfiles.manage' },
  columns: [
    ['Name', name],
    ['Restricts', (i) => ['executables', 'ingress', 'egress', 'fileThreatProtection'].filter((k) => i[k]?.enabled).join(', ') || 'nothing'],
    ['Last change', when],
  ],
  form: {
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      executables: {
        enabled: flag(doc?.executables?.enabled),
        mode: doc?.executables?.mode ?? 'blockListed',
        list: ((doc?.executables?.executables as Array<Record<string, string>>) ?? []).map((e) => e.path ?? `regex:${e.regex}`).join('\n'),
      },
      ingress: { enabled: flag(doc?.ingress?.enabled), allowed: ((doc?.ingress?.allowed as Array<Record<string, any>>) ?? []).map(peerLine).join('\n') },
      egress: { enabled: flag(doc?.egress?.enabled), allowed: ((doc?.egress?.allowed as Array<Record<string, any>>) ?? []).map(peerLine).join('\n') },
      fileThreatProtection: { enabled: flag(doc?.fileThreatProtection?.enabled) },
    }),
    toDoc: (raw) => {
      const ex = obj(raw.executables);
      return {
        name: str(raw.name),
        ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
        executables: { enabled: checked(ex.enabled), mode: str(ex.mode) || 'blockListed', executables: lines(ex.list).map((l) => (l.startsWith('regex:') ? { regex: l.slice(6) } : { path: l })) },
        ingress: { enabled: checked(obj(raw.ingress).enabled), allowed: lines(obj(raw.ingress).allowed).map(peer) },
        egress: { enabled: checked(obj(raw.egress).enabled), allowed: lines(obj(raw.egress).allowed).map(peer) },
        fileThreatProtection: { enabled: checked(obj(raw.fileThreatProtection).enabled) },
      };
    },
    render: (ctx, raw) => {
      const ex = obj(raw.executables);
      return (
        <>
          {nameAndDescription(ctx, raw)}
          <fieldset class="section">
            <legend>Executables</legend>
            {toggle(ctx, { name: 'executables.enabled', label: 'Restrict executables', pointer: '/executables/enabled', on: checked(ex.enabled) })}
            {select(ctx, { name: 'executables.mode', label: 'Mode', pointer: '/executables/mode', value: str(ex.mode), options: [['blockListed', 'Block the listed executables'], ['allowListedOnly', 'Allow only the listed executables']] })}
            {textarea(ctx, { name: 'executables.list', label: 'Executables, one a line', pointer: '/executables/executables', value: str(ex.list), hint: 'Absolute paths (* matches any run of characters), or regex:<expression>' })}
          </fieldset>
          {(['ingress', 'egress'] as const).map((dir) => (
            <fieldset class="section">
              <legend>{dir === 'ingress' ? 'Incoming connections' : 'Outgoing connections'}</legend>
              {toggle(ctx, { name: `${dir}.enabled`, label: `Restrict ${dir}`, pointer: `/${dir}/enabled`, on: checked(obj(raw[dir]).enabled) })}
              {textarea(ctx, { name: `${dir}.allowed`, label: 'Allowed peers, one a line', pointer: `/${dir}/allowed`, value: str(obj(raw[dir]).allowed), hint: 'A CIDR or host name, optionally followed by ports: 10.0.0.0/8 443,8080' })}
            </fieldset>
          ))}
          <fieldset class="section">
            <legend>File threat protection</legend>
            {toggle(ctx, { name: 'fileThreatProtection.enabled', label: 'File threat protection', pointer: '/fileThreatProtection/enabled', on: checked(obj(raw.fileThreatProtection).enabled) })}
          </fieldset>
        </>
      );
    },
  },
};

const clusters: ResourcePage = {
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

const apiKeys: ResourcePage = {
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

const webhooks: ResourcePage = {
  path: '/webhooks',
  api: '/v1/webhooks',
  title: 'Webhooks',
  noun: 'webhook',
  createdMember: 'webhook',
  rights: { view: 'webhooks.view', manage: 'webhooks.manage' },
  columns: [
    ['Name', name],
    ['URL', (i) => i.url],
    ['Enabled', (i) => (i.enabled ? 'yes' : `no${i.disabledReason ? ` (${i.disabledReason})` : ''}`)],
  ],
  rowLinks: (i) => [[`/webhooks/${i.id}/deliveries`, `Deliveries of ${i.name}`]],
  form: {
    isList: (p) => p === 'filters.verdicts' || p === 'filters.kinds',
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      url: doc?.url ?? 'https://',
      enabled: flag(doc?.enabled ?? true),
      filters: { verdicts: doc?.filters?.verdicts ?? [], kinds: doc?.filters?.kinds ?? [], minSeverity: doc?.filters?.minSeverity ?? '' },
    }),
    toDoc: (raw) => {
      const f = obj(raw.filters);
      return {
        name: str(raw.name),
        ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
        url: str(raw.url).trim(),
        enabled: checked(raw.enabled),
        filters: {
          ...(list(f.verdicts).length ? { verdicts: list(f.verdicts) } : {}),
          ...(list(f.kinds).length ? { kinds: list(f.kinds) } : {}),
          ...(str(f.minSeverity) ? { minSeverity: str(f.minSeverity) } : {}),
        },
      };
    },
    render: (ctx, raw) => {
      const f = obj(raw.filters);
      return (
        <>
          {nameAndDescription(ctx, raw)}
          {text(ctx, { name: 'url', label: 'Receiver URL (https)', pointer: '/url', value: str(raw.url), type: 'url' })}
          {toggle(ctx, { name: 'enabled', label: 'Enabled', pointer: '/enabled', on: checked(raw.enabled) })}
          {checkboxes(ctx, { name: 'filters.verdicts', label: 'Only these verdicts (none: all)', pointer: '/filters/verdicts', value: list(f.verdicts), options: [['blocked', 'blocked'], ['alerted', 'alerted'], ['allowed', 'allowed']] })}
          {checkboxes(ctx, { name: 'filters.kinds', label: 'Only these kinds (none: all)', pointer: '/filters/kinds', value: list(f.kinds), options: ['admission', 'process', 'network', 'fileThreat', 'agent'].map((k): [string, string] => [k, k]) })}
          {select(ctx, { name: 'filters.minSeverity', label: 'Minimum severity', pointer: '/filters/minSeverity', value: str(f.minSeverity), options: [['', 'any'], ['low', 'low'], ['medium', 'medium'], ['high', 'high'], ['critical', 'critical']] })}
        </>
      );
    },
  },
};

const REGISTRY_TYPES = ['generic', 'dockerHub', 'harbor', 'gitlab', 'quay', 'jfrog', 'nexus', 'ecr', 'gcr', 'acr'];

const registries: ResourcePage = {
  path: '/registries',
  api: '/v1/registries',
  title: 'Registries',
  noun: 'registry',
  rights: { view: 'registries.view', manage: 'registries.manage' },
  columns: [
    ['Name', name],
    ['URL', (i) => i.url],
    ['Type', (i) => i.type],
    ['Last change', when],
  ],
  form: {
    fromDoc: (doc) => ({ name: doc?.name ?? '', description: doc?.description ?? '', url: doc?.url ?? '', type: doc?.type ?? 'generic' }),
    toDoc: (raw) => ({ name: str(raw.name), ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}), url: str(raw.url).trim(), type: str(raw.type) }),
    render: (ctx, raw) => (
      <>
        {nameAndDescription(ctx, raw)}
        {text(ctx, { name: 'url', label: 'Registry (host[:port][/path])', pointer: '/url', value: str(raw.url), hint: 'e.g. ghcr.io/acme' })}
        {select(ctx, { name: 'type', label: 'Type', pointer: '/type', value: str(raw.type), options: REGISTRY_TYPES.map((t): [string, string] => [t, t]) })}
      </>
    ),
  },
};

/** Custom roles; the form offers only the rights its user holds (the API refuses granting others anyway). */
const roles: ResourcePage = {
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

/** cosign validators: a public key, or keyless identities (issuer and subject, each exact or a regular expression). */
const validators: ResourcePage = {
  path: '/signature-validators',
  api: '/v1/signature-validators',
  title: 'Signature validators',
  noun: 'signature validator',
  rights: { view: 'signatureValidators.view', manage: 'signatureValidators.manage' },
  columns: [
    ['Name', name],
    ['Method', (i) => i.verification?.method],
    ['Last change', when],
  ],
  form: {
    blank: () => ({ issuer: '', issuerRegExp: '', subject: '', subjectRegExp: '' }),
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      method: doc?.verification?.method ?? 'publicKey',
      publicKey: doc?.verification?.publicKey ?? '',
      identities: ((doc?.verification?.identities as Array<Record<string, string>>) ?? [{}]).map((i) => ({ issuer: i.issuer ?? '', issuerRegExp: i.issuerRegExp ?? '', subject: i.subject ?? '', subjectRegExp: i.subjectRegExp ?? '' })),
    }),
    toDoc: (raw) => ({
      name: str(raw.name),
      ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
      type: 'cosign',
      verification:
        str(raw.method) === 'keyless'
          ? { method: 'keyless', identities: rows(raw.identities).map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => str(v).trim() !== '').map(([k, v]) => [k, str(v).trim()]))) }
          : { method: 'publicKey', publicKey: str(raw.publicKey).trim() },
    }),
    render: (ctx, raw) => (
      <>
        {nameAndDescription(ctx, raw)}
        {select(ctx, { name: 'method', label: 'Verification', pointer: '/verification/method', value: str(raw.method), options: [['publicKey', 'cosign public key'], ['keyless', 'Keyless (Fulcio certificate identity)']] })}
        {textarea(ctx, { name: 'publicKey', label: 'Public key (PEM), for public-key verification', pointer: '/verification/publicKey', value: str(raw.publicKey), rows: 5 })}
        <fieldset class="section">
          <legend>Keyless identities, for keyless verification</legend>
          {listErrors(ctx, '/verification/identities')}
          {rows(raw.identities).map((i, n) => (
            <div class="row" role="group" aria-label={`Identity ${n + 1}`}>
              {text(ctx, { name: `identities.${n}.issuer`, label: 'Issuer', pointer: `/verification/identities/${n}/issuer`, value: str(i.issuer) })}
              {text(ctx, { name: `identities.${n}.issuerRegExp`, label: 'or issuer pattern', pointer: `/verification/identities/${n}/issuerRegExp`, value: str(i.issuerRegExp) })}
              {text(ctx, { name: `identities.${n}.subject`, label: 'Subject', pointer: `/verification/identities/${n}/subject`, value: str(i.subject) })}
              {text(ctx, { name: `identities.${n}.subjectRegExp`, label: 'or subject pattern', pointer: `/verification/identities/${n}/subjectRegExp`, value: str(i.subjectRegExp) })}
              <RowButton action={`remove:identities.${n}`} label={`Remove identity ${n + 1}`} cls="link" />
            </div>
          ))}
          <RowButton action="add:identities" label="Add identity" />
        </fieldset>
      </>
    ),
  },
};

const json = (page: Omit<ResourcePage, 'form'>): ResourcePage => page;

export const RESOURCE_PAGES: ResourcePage[] = [
  scopes,
  runtimeProfiles,
  clusters,
  apiKeys,
  validators,
  json({ path: '/images', api: '/v1/images', title: 'Images', noun: 'image', rights: { view: 'images.view', manage: 'images.manage' }, columns: [['Image', name], ['Tags', (i) => (i.tags ?? []).join(', ')], ['Compliance', (i) => i.compliance], ['Last scan', (i) => fmtTime(i.lastScanAt)]] }),
  registries,
  roles,
  webhooks,
];
