/** @jsxImportSource hono/jsx */
import type { FieldError } from '../../../schema/problem.ts';
import { checkboxes, refOptions, textarea, type FormCtx } from '../fields.tsx';
import { lines, list, obj, str, type Raw } from '../forms.ts';

/** A registry of `/v1/registries` as the picker lists it. */
export interface RegistryChoice {
  id: string;
  name: string;
  url: string;
}

type Allowed = string | { registryId: string };

/**
 * "Registries allowed" holds two kinds of entries: registries of the tenant, picked from a list and stored as
 * `{ registryId }` references (the bundle carries their prefix, and a registry in use cannot be deleted), and typed
 * prefixes for registries nobody registered. The form keeps them apart: picked ids, then prefixes one a line.
 */
export function registriesToRaw(registries: readonly Allowed[] | undefined): Raw {
  const all = registries ?? [];
  return {
    registryIds: all.filter((r): r is { registryId: string } => typeof r !== 'string').map((r) => r.registryId),
    other: all.filter((r): r is string => typeof r === 'string').join('\n'),
  };
}

/** Picked references first, then typed prefixes in their order (errors are mapped back by that order). */
export function registriesToDoc(section: Raw): Allowed[] {
  return [...new Set(list(section.registryIds))].map((registryId): Allowed => ({ registryId })).concat(lines(section.other));
}

/**
 * The API names entries by their index in the combined list; the form shows them in two fields. An error about a
 * picked registry goes to the picker (naming the registry), one about a prefix to its line in the text field.
 */
export function placeRegistryErrors(errors: readonly FieldError[], raw: Raw, registries: readonly RegistryChoice[] | undefined): FieldError[] {
  const ids = [...new Set(list(obj(raw.registriesAllowed).registryIds))];
  return errors.map((e) => {
    const m = /^\/registriesAllowed\/registries\/(\d+)(\/.*)?$/.exec(e.pointer ?? '');
    if (!m) return e;
    const i = Number(m[1]);
    if (i < ids.length) {
      const r = registries?.find((x) => x.id === ids[i]);
      return { ...e, pointer: '/registriesAllowed/registryIds', detail: `${r ? r.name : ids[i]}: ${e.detail}` };
    }
    return { ...e, pointer: `/registriesAllowed/registries/${i - ids.length}${m[2] ?? ''}` };
  });
}

/**
 * The picker (only for whoever may see registries; references already set are kept either way) and the prefixes.
 * Called as a function, not as `<RegistriesFields/>`: hono/jsx runs components only when the page is serialized, and
 * the form's first render pass must see every field's error anchor (see renderForm).
 */
export function RegistriesFields(props: { ctx: FormCtx; raw: Raw; registries: readonly RegistryChoice[] | undefined }) {
  const { ctx, registries } = props;
  const section = obj(props.raw.registriesAllowed);
  const chosen = list(section.registryIds);
  const options = refOptions(registries, chosen, (r) => `${r.name} (${r.url})`);
  return (
    <>
      {options.length > 0 &&
        checkboxes(ctx, { name: 'registriesAllowed.registryIds', label: 'Registered registries', pointer: '/registriesAllowed/registryIds', value: chosen, options })}
      {registries && registries.length === 0 && (
        <p class="hint">
          No registry is registered yet; <a href="/registries">Registries</a> lists them for picking here.
        </p>
      )}
      {textarea(ctx, { name: 'registriesAllowed.other', label: 'Other registry prefixes, one a line', pointer: '/registriesAllowed/registries', value: str(section.other), hint: 'host[:port][/path], e.g. ghcr.io/acme' })}
    </>
  );
}
