/** @jsxImportSource hono/jsx */
import { checkboxes, select, text, toggle } from '../../fields.tsx';
import { checked, list, obj, str } from '../../forms.ts';
import type { ResourcePage } from '../resource-kind.ts';
import { flag, name, nameAndDescription, optional } from './common.tsx';

export const webhooks: ResourcePage = {
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
