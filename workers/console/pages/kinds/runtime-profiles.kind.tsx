/** @jsxImportSource hono/jsx */
import { select, textarea, toggle } from '../../fields.tsx';
import { checked, lines, obj, str } from '../../forms.ts';
import type { ResourcePage } from '../resource-kind.ts';
import { flag, name, nameAndDescription, optional, when } from './common.tsx';

/** A peer line: a CIDR (`10.0.0.0/8`) or a host name, optionally `:ports` (`api.example.com:443`). */
function peer(line: string) {
  const [host, ports] = line.split(/\s+|(?<=[a-z0-9\]])\:(?=[\d,-]+$)/i, 2) as [string, string | undefined];
  const base = host.includes('/') ? { cidr: host } : { fqdn: host };
  return ports ? { ...base, ports: ports.split(',') } : base;
}
const peerLine = (p: Record<string, any>) => `${p.cidr ?? p.fqdn}${p.ports ? ` ${p.ports.join(',')}` : ''}`;

export const runtimeProfiles: ResourcePage = {
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
