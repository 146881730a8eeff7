import type { RuntimePolicy } from '../../../schema/runtime-policies.ts';
import { checked, isoToLocal, lines, list, localToIso, obj, rows, str, type Raw } from '../forms.ts';
import { registriesToDoc, registriesToRaw } from './policy-registries.tsx';

/** Form fields that hold a list even when one value is chosen (multiple selects and checkbox groups). */
const LIST_FIELDS = new Set([
  'scopeIds',
  'bestPracticeCheck.checks',
  'capabilitiesBlock.capabilities',
  'containerRuntimeProfiles.mappings.*.profileIds',
  'limitContainerPrivileges.settings',
  'registriesAllowed.registryIds',
]);
export const isPolicyListField = (pattern: string) => LIST_FIELDS.has(pattern);

/** A new row for the list at a path pattern (`exclusions.items`, `containerRuntimeProfiles.mappings.*.podLabels`, ...). */
export function blankPolicyRow(pattern: string): Raw | string {
  switch (pattern) {
    case 'exclusions.items':
      return { kind: 'Namespace', name: '', namespace: '', expiresAt: '', reason: '' };
    case 'containerRuntimeProfiles.mappings':
      return { by: 'labels', podLabels: [{ key: '', value: '' }], imageUrlTemplates: [''], profileIds: [] };
    case 'containerRuntimeProfiles.mappings.*.podLabels':
      return { key: '', value: '' };
    case 'imageContentProtection.rules':
      return { registryUrlTemplate: '', verify: 'true', validatorId: '' };
    default:
      return '';
  }
}

const flag = (on: boolean) => (on ? 'true' : '');

/** An API document as the form shows it. */
export function policyToRaw(doc: Partial<RuntimePolicy>): Raw {
  const d = doc as RuntimePolicy;
  return {
    name: d.name ?? '',
    description: d.description ?? '',
    enabled: flag(d.enabled ?? true),
    mode: d.mode ?? 'audit',
    scopeIds: d.scopeIds ?? [],
    exclusions: { enabled: flag(!!d.exclusions?.enabled), items: (d.exclusions?.items ?? []).map((x) => ({ kind: x.kind, name: x.name, namespace: x.namespace ?? '', expiresAt: isoToLocal(x.expiresAt), reason: x.reason ?? '' })) },
    bestPracticeCheck: { enabled: flag(!!d.bestPracticeCheck?.enabled), checks: d.bestPracticeCheck?.checks ?? [] },
    blockNonCompliantImages: { enabled: flag(!!d.blockNonCompliantImages?.enabled) },
    blockUnregisteredImages: { enabled: flag(!!d.blockUnregisteredImages?.enabled) },
    capabilitiesBlock: { enabled: flag(!!d.capabilitiesBlock?.enabled), capabilities: d.capabilitiesBlock?.capabilities ?? [] },
    containerRuntimeProfiles: {
      enabled: flag(!!d.containerRuntimeProfiles?.enabled),
      mappings: (d.containerRuntimeProfiles?.mappings ?? []).map((m) => ({
        by: m.imageUrlTemplates ? 'images' : 'labels',
        podLabels: Object.entries(m.podLabels ?? {}).map(([key, value]) => ({ key, value })).concat(m.podLabels ? [] : [{ key: '', value: '' }]),
        imageUrlTemplates: m.imageUrlTemplates ?? [''],
        profileIds: m.profileIds,
      })),
    },
    fileThreatProtection: { enabled: flag(!!d.fileThreatProtection?.enabled) },
    imageContentProtection: {
      enabled: flag(!!d.imageContentProtection?.enabled),
      rules: (d.imageContentProtection?.rules ?? []).map((r) => ({ registryUrlTemplate: r.registryUrlTemplate, verify: String(r.verify), validatorId: r.validatorId ?? '' })),
    },
    limitContainerPrivileges: { enabled: flag(!!d.limitContainerPrivileges?.enabled), preset: d.limitContainerPrivileges?.preset ?? '', settings: d.limitContainerPrivileges?.settings ?? [] },
    // Registries of the tenant are picked ({ registryId }); any other prefix is typed, one a line.
    registriesAllowed: { enabled: flag(!!d.registriesAllowed?.enabled), ...registriesToRaw(d.registriesAllowed?.registries) },
    volumesBlocked: { enabled: flag(!!d.volumesBlocked?.enabled), paths: (d.volumesBlocked?.paths ?? []).join('\n') },
  };
}

/** The form as an API document; nothing is judged here, the API's validation answers for every field. */
export function rawToPolicy(raw: Raw): Record<string, unknown> {
  const section = (name: string) => obj(raw[name]);
  const on = (name: string) => checked(section(name).enabled);
  const description = str(raw.description);
  const preset = str(section('limitContainerPrivileges').preset);
  return {
    name: str(raw.name),
    ...(description !== '' ? { description } : {}),
    enabled: checked(raw.enabled),
    ...(str(raw.mode) !== '' ? { mode: str(raw.mode) } : {}),
    scopeIds: list(raw.scopeIds),
    exclusions: {
      enabled: on('exclusions'),
      items: rows(section('exclusions').items).map((x) => {
        const expiresAt = localToIso(str(x.expiresAt));
        const namespace = str(x.namespace).trim();
        return { kind: str(x.kind), name: str(x.name), ...(namespace !== '' ? { namespace } : {}), ...(str(x.reason) !== '' ? { reason: str(x.reason) } : {}), ...(expiresAt ? { expiresAt } : {}) };
      }),
    },
    bestPracticeCheck: { enabled: on('bestPracticeCheck'), checks: list(section('bestPracticeCheck').checks) },
    blockNonCompliantImages: { enabled: on('blockNonCompliantImages') },
    blockUnregisteredImages: { enabled: on('blockUnregisteredImages') },
    capabilitiesBlock: { enabled: on('capabilitiesBlock'), capabilities: list(section('capabilitiesBlock').capabilities) },
    containerRuntimeProfiles: {
      enabled: on('containerRuntimeProfiles'),
      mappings: rows(section('containerRuntimeProfiles').mappings).map((m) =>
        str(m.by) === 'images'
          ? { imageUrlTemplates: list(m.imageUrlTemplates).map((t) => t.trim()), profileIds: list(m.profileIds) }
          : { podLabels: Object.fromEntries(rows(m.podLabels).map((l) => [str(l.key).trim(), str(l.value).trim()])), profileIds: list(m.profileIds) },
      ),
    },
    fileThreatProtection: { enabled: on('fileThreatProtection') },
    imageContentProtection: {
      enabled: on('imageContentProtection'),
      rules: rows(section('imageContentProtection').rules).map((r) => ({
        registryUrlTemplate: str(r.registryUrlTemplate).trim(),
        verify: str(r.verify) !== 'false',
        ...(str(r.validatorId) !== '' ? { validatorId: str(r.validatorId) } : {}),
      })),
    },
    limitContainerPrivileges: { enabled: on('limitContainerPrivileges'), ...(preset !== '' ? { preset } : {}), settings: list(section('limitContainerPrivileges').settings) },
    registriesAllowed: { enabled: on('registriesAllowed'), registries: registriesToDoc(section('registriesAllowed')) },
    volumesBlocked: { enabled: on('volumesBlocked'), paths: lines(section('volumesBlocked').paths) },
  };
}
