/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { FieldError } from '../../schema/problem.ts';
import { ErrorPlacement, fieldId } from './forms.ts';

/**
 * Renders a form twice: once to learn which API pointers have a field (anchors), once with each problem+json error
 * placed next to its field. Field helpers are plain calls, so a render pass registers its anchors as it goes.
 */
export class FormCtx {
  readonly anchors: string[] = [];
  constructor(private readonly placement?: ErrorPlacement) {}

  errorsAt(pointer: string): string[] {
    this.anchors.push(pointer);
    return this.placement?.at(pointer) ?? [];
  }

  get unplaced(): FieldError[] {
    return this.placement?.unplaced ?? [];
  }

  get errorCount(): number {
    return this.placement?.count ?? 0;
  }
}

export function renderForm<T>(errors: readonly FieldError[], render: (ctx: FormCtx) => T): T {
  if (errors.length === 0) return render(new FormCtx());
  const probe = new FormCtx();
  render(probe);
  return render(new FormCtx(new ErrorPlacement(errors, probe.anchors)));
}

function Errors(props: { id: string; errors: string[] }) {
  return props.errors.length === 0 ? null : (
    <ul class="field-errors" id={props.id}>
      {props.errors.map((e) => (
        <li>{e}</li>
      ))}
    </ul>
  );
}

interface Common {
  name: string;
  label: string;
  pointer: string;
  hint?: string;
}

function wrap(ctx: FormCtx, p: Common, control: (attrs: Record<string, unknown>) => Child, after?: Child, cls = 'field') {
  const errors = ctx.errorsAt(p.pointer);
  const id = fieldId(p.name);
  const describedBy = [p.hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class={errors.length ? `${cls} invalid` : cls} data-pointer={p.pointer}>
      <label for={id}>{p.label}</label>
      {p.hint && (
        <p class="hint" id={`${id}-hint`}>
          {p.hint}
        </p>
      )}
      {control({ id, name: p.name, 'aria-describedby': describedBy, 'aria-invalid': errors.length ? 'true' : undefined })}
      {after}
      <Errors id={`${id}-error`} errors={errors} />
    </div>
  );
}

export const text = (ctx: FormCtx, p: Common & { value: string; type?: string; required?: boolean; autocomplete?: string }) =>
  wrap(ctx, p, (a) => <input {...a} type={p.type ?? 'text'} value={p.value} required={p.required} autocomplete={p.autocomplete ?? 'off'} />);

export const textarea = (ctx: FormCtx, p: Common & { value: string; rows?: number }) =>
  wrap(ctx, p, (a) => (
    <textarea {...a} rows={p.rows ?? 3}>
      {p.value}
    </textarea>
  ));

export const select = (ctx: FormCtx, p: Common & { value: string | string[]; options: Array<[string, string]>; multiple?: boolean; htmxRefresh?: string }) => {
  const chosen = new Set(Array.isArray(p.value) ? p.value : [p.value]);
  return wrap(ctx, p, (a) => (
    <select {...a} multiple={p.multiple} size={p.multiple ? Math.min(6, Math.max(3, p.options.length)) : undefined} {...(p.htmxRefresh ? { 'hx-post': p.htmxRefresh, 'hx-trigger': 'change', 'hx-vals': '{"_action":"refresh"}' } : {})}>
      {p.options.map(([value, label]) => (
        <option value={value} selected={chosen.has(value)}>
          {label}
        </option>
      ))}
    </select>
  ), p.htmxRefresh ? <RefreshButton /> : undefined);
};

/** Without JavaScript a choice that changes which fields apply needs a button to show them (htmx does it on change). */
const RefreshButton = () => (
  <noscript>
    <button type="submit" name="_action" value="refresh" formnovalidate class="link">
      Show the fields for this choice
    </button>
  </noscript>
);

/**
 * Options for a reference (`[id, label]`), keeping every chosen id the list lacks: objects the principal's roles do
 * not show (the list is `undefined`), or one deleted meanwhile. Without them saving the form would silently drop the
 * reference; with them the API keeps it, or says at the field why it cannot.
 */
export function refOptions<T extends { id: string }>(items: readonly T[] | undefined, chosen: readonly string[], label: (item: T) => string): Array<[string, string]> {
  const known = (items ?? []).map((i): [string, string] => [i.id, label(i)]);
  const ids = new Set(known.map(([id]) => id));
  const missing = chosen.filter((id) => id !== '' && !ids.has(id)).map((id): [string, string] => [id, items ? `${id} (not found)` : `${id} (your roles do not show these)`]);
  return [...known, ...missing];
}

/** A group of checkboxes sharing one name (a list), in a fieldset with a legend. */
export function checkboxes(ctx: FormCtx, p: Common & { value: string[]; options: Array<[string, string]> }) {
  const errors = ctx.errorsAt(p.pointer);
  const id = fieldId(p.name);
  const chosen = new Set(p.value);
  return (
    <fieldset class={errors.length ? 'checks invalid' : 'checks'} data-pointer={p.pointer} aria-describedby={errors.length ? `${id}-error` : undefined}>
      <legend>{p.label}</legend>
      {p.options.map(([value, label], i) => (
        <label class="check">
          <input type="checkbox" id={`${id}-${i}`} name={p.name} value={value} checked={chosen.has(value)} /> {label}
        </label>
      ))}
      <Errors id={`${id}-error`} errors={errors} />
    </fieldset>
  );
}

/** The Disabled / Enabled switch of a section (a checkbox with role switch). */
export function toggle(ctx: FormCtx, p: Common & { on: boolean }) {
  const errors = ctx.errorsAt(p.pointer);
  const id = fieldId(p.name);
  return (
    <div class="toggle">
      <input type="checkbox" role="switch" id={id} name={p.name} value="true" checked={p.on} aria-describedby={errors.length ? `${id}-error` : undefined} />
      <label for={id}>{p.label}</label>
      <Errors id={`${id}-error`} errors={errors} />
    </div>
  );
}

/** Errors that no field owns, and a summary linking to each invalid field; announced when the form is swapped in. */
export function ErrorSummary(props: { ctx: FormCtx; problem?: { title: string; detail?: string } | undefined }) {
  const { ctx, problem } = props;
  if (!problem) return <div id="form-errors" role="alert"></div>;
  return (
    <div id="form-errors" role="alert" class="problem" tabindex={-1} autofocus>
      <p>
        <strong>{problem.title}.</strong> {problem.detail}
        {ctx.errorCount > 0 && ` ${ctx.errorCount} field${ctx.errorCount === 1 ? '' : 's'} to fix, marked below.`}
      </p>
      {ctx.unplaced.length > 0 && (
        <ul>
          {ctx.unplaced.map((e) => (
            <li>
              {e.pointer ?? e.parameter}: {e.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const RowButton = (p: { action: string; label: string; cls?: string }) => (
  <button type="submit" name="_action" value={p.action} formnovalidate class={p.cls ?? 'secondary'}>
    {p.label}
  </button>
);

/** Errors about a list as a whole (too many rows, a missing selector), shown above its rows. */
export function listErrors(ctx: FormCtx, pointer: string) {
  const errors = ctx.errorsAt(pointer);
  return <Errors id={fieldId(pointer.slice(1).replaceAll('/', '.')) + '-error'} errors={errors} />;
}
