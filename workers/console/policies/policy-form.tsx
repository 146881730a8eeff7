/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { LINUX_CAPABILITIES } from '../../../schema/capabilities.ts';
import type { FieldError } from '../../../schema/problem.ts';
import { BEST_PRACTICE_CHECKS, EXCLUSION_KINDS, PRIVILEGE_SETTINGS } from '../../../schema/runtime-policies.ts';
import { checkboxes, ErrorSummary, listErrors, refOptions, renderForm, RowButton, select, text, textarea, toggle, type FormCtx } from '../fields.tsx';
import { checked, list, obj, rows, str, type Raw } from '../forms.ts';
import type { PageContext } from '../ui.tsx';
import { RegistriesFields, type RegistryChoice } from './policy-registries.tsx';
import { SignatureRules, type ValidatorChoice } from './policy-signatures.tsx';

/** What the drop-downs offer; a list is undefined when the principal's roles do not show that kind. */
export interface PolicyFormRefs {
  /** Scopes that can hold a runtime policy (registry-only scopes are left out; the global one only for its right). */
  scopes: Array<{ id: string; name: string }> | undefined;
  profiles: Array<{ id: string; name: string }> | undefined;
  validators: ValidatorChoice[] | undefined;
  registries: RegistryChoice[] | undefined;
}

export interface Conflict {
  by: string;
  at: string;
  revision: number;
  /** Field, their value, your value. */
  changes: Array<{ pointer: string; theirs: string; yours: string }>;
  currentEtag: string;
}

export interface PolicyFormProps {
  raw: Raw;
  refs: PolicyFormRefs;
  action: string;
  page: PageContext;
  etag?: string;
  errors?: FieldError[];
  problem?: { title: string; detail?: string };
  conflict?: Conflict;
}

const BEST_PRACTICE_LABELS: Record<string, string> = {
  imageTagNotLatest: 'Image tag is not latest',
  imageDigestPinned: 'Image is pinned by digest',
  cpuRequestsSet: 'CPU requests are set',
  cpuLimitsSet: 'CPU limits are set',
  memoryRequestsSet: 'Memory requests are set',
  memoryLimitsSet: 'Memory limits are set',
};

function Section(props: { ctx: FormCtx; id: string; title: string; raw: Raw; children?: Child; note?: Child }) {
  const on = checked(obj(props.raw[props.id]).enabled);
  return (
    <fieldset class={on ? 'section on' : 'section'} id={`section-${props.id}`}>
      <legend>{props.title}</legend>
      {toggle(props.ctx, { name: `${props.id}.enabled`, label: `${props.title}: enabled`, pointer: `/${props.id}/enabled`, on })}
      {props.note}
      {props.children}
    </fieldset>
  );
}

const opts = (items: readonly string[], label: (s: string) => string = (s) => s): Array<[string, string]> => items.map((i) => [i, label(i)]);

function body(ctx: FormCtx, p: PolicyFormProps) {
  const { raw, refs, action } = p;
  const ex = obj(raw.exclusions);
  const crp = obj(raw.containerRuntimeProfiles);
  const lcp = obj(raw.limitContainerPrivileges);
  return (
    <>
      <ErrorSummary ctx={ctx} problem={p.problem} />
      {p.conflict && <ConflictPanel conflict={p.conflict} />}
      <input type="hidden" name="_csrf" value={p.page.csrf} />
      {p.etag && <input type="hidden" name="_etag" value={p.etag} />}
      <fieldset class="section">
        <legend>General</legend>
        {text(ctx, { name: 'name', label: 'Name', pointer: '/name', value: str(raw.name), required: true })}
        {textarea(ctx, { name: 'description', label: 'Description (optional)', pointer: '/description', value: str(raw.description), rows: 2 })}
        {select(ctx, {
          name: 'scopeIds',
          label: 'Scope',
          pointer: '/scopeIds',
          hint: 'Scopes holding only registries are not offered: a runtime policy applies to clusters and namespaces.',
          value: list(raw.scopeIds),
          multiple: true,
          options: refOptions(refs.scopes, list(raw.scopeIds), (s) => s.name),
        })}
        {toggle(ctx, { name: 'enabled', label: 'Policy enabled', pointer: '/enabled', on: checked(raw.enabled) })}
      </fieldset>

      <Section ctx={ctx} id="exclusions" title="Exclusions" raw={raw}>
        {listErrors(ctx, '/exclusions/items')}
        {rows(ex.items).map((x, i) => (
          <div class="row" role="group" aria-label={`Exclusion ${i + 1}`}>
            {select(ctx, { name: `exclusions.items.${i}.kind`, label: 'Object', pointer: `/exclusions/items/${i}/kind`, value: str(x.kind), options: opts(EXCLUSION_KINDS) })}
            {text(ctx, { name: `exclusions.items.${i}.name`, label: 'Name (masks with *)', pointer: `/exclusions/items/${i}/name`, value: str(x.name) })}
            {text(ctx, { name: `exclusions.items.${i}.namespace`, label: 'In namespaces (mask; not for Namespace)', pointer: `/exclusions/items/${i}/namespace`, value: str(x.namespace), hint: i === 0 ? 'Required for workloads (* for every namespace): a workload name alone is chosen by whoever creates it' : undefined })}
            {text(ctx, { name: `exclusions.items.${i}.expiresAt`, label: 'Expires (UTC, optional)', pointer: `/exclusions/items/${i}/expiresAt`, value: str(x.expiresAt), type: 'datetime-local' })}
            {text(ctx, { name: `exclusions.items.${i}.reason`, label: 'Reason (optional)', pointer: `/exclusions/items/${i}/reason`, value: str(x.reason) })}
            <RowButton action={`remove:exclusions.items.${i}`} label={`Remove exclusion ${i + 1}`} cls="link" />
          </div>
        ))}
        <RowButton action="add:exclusions.items" label="Add exclusion" />
      </Section>

      <fieldset class="section">
        <legend>Mode</legend>
        {(() => {
          const errors = ctx.errorsAt('/mode');
          return (
            <div class={errors.length ? 'radios invalid' : 'radios'} role="radiogroup" aria-label="Mode" aria-describedby={errors.length ? 'f-mode-error' : undefined}>
              {[
                ['audit', 'Audit: report what does not comply'],
                ['enforce', 'Enforce: block what does not comply'],
              ].map(([v, l]) => (
                <label class="check">
                  <input type="radio" name="mode" id={`f-mode-${v}`} value={v} checked={str(raw.mode) === v} /> {l}
                </label>
              ))}
              {errors.length > 0 && (
                <ul class="field-errors" id="f-mode-error">
                  {errors.map((e) => (
                    <li>{e}</li>
                  ))}
                </ul>
              )}
            </div>
          );
        })()}
      </fieldset>

      <Section ctx={ctx} id="bestPracticeCheck" title="Best practice check" raw={raw}>
        {checkboxes(ctx, { name: 'bestPracticeCheck.checks', label: 'Checks', pointer: '/bestPracticeCheck/checks', value: list(obj(raw.bestPracticeCheck).checks), options: opts(BEST_PRACTICE_CHECKS, (c) => BEST_PRACTICE_LABELS[c] ?? c) })}
      </Section>
      <Section ctx={ctx} id="blockNonCompliantImages" title="Block non-compliant images" raw={raw} note={<p class="hint">Applies to scanned, registered images whose status is not Compliant.</p>} />
      <Section ctx={ctx} id="blockUnregisteredImages" title="Block unregistered images" raw={raw} note={<p class="hint">Images unknown to Palisade cannot be deployed.</p>} />
      <Section ctx={ctx} id="capabilitiesBlock" title="Capabilities block" raw={raw}>
        {select(ctx, { name: 'capabilitiesBlock.capabilities', label: 'Capabilities to block (ALL blocks every one)', pointer: '/capabilitiesBlock/capabilities', value: list(obj(raw.capabilitiesBlock).capabilities), multiple: true, options: opts(['ALL', ...LINUX_CAPABILITIES]) })}
      </Section>

      <Section ctx={ctx} id="containerRuntimeProfiles" title="Container runtime profiles" raw={raw}>
        {listErrors(ctx, '/containerRuntimeProfiles/mappings')}
        {rows(crp.mappings).map((m, i) => {
          const base = `containerRuntimeProfiles.mappings.${i}`;
          const ptr = `/containerRuntimeProfiles/mappings/${i}`;
          const byImages = str(m.by) === 'images';
          return (
            <fieldset class="mapping">
              <legend>Pod mapping {i + 1}</legend>
              {select(ctx, { name: `${base}.by`, label: 'Select pods by', pointer: `${ptr}/by`, value: str(m.by), options: [['labels', 'Pod labels'], ['images', 'Image URL template']], htmxRefresh: action })}
              {byImages ? (
                <>
                  {listErrors(ctx, `${ptr}/imageUrlTemplates`)}
                  {list(m.imageUrlTemplates).map((t, j) => text(ctx, { name: `${base}.imageUrlTemplates.${j}`, label: `Image URL template ${j + 1}`, pointer: `${ptr}/imageUrlTemplates/${j}`, value: t, hint: j === 0 ? 'e.g. ghcr.io/acme/** or nginx:*; docker.io/library/ubuntu and ubuntu are the same' : undefined }))}
                  <RowButton action={`add:${base}.imageUrlTemplates`} label="Add image URL" />
                </>
              ) : (
                <>
                  {listErrors(ctx, `${ptr}/podLabels`)}
                  {rows(m.podLabels).map((l, j) => (
                    <div class="row" role="group" aria-label={`Label pair ${j + 1}`}>
                      {text(ctx, { name: `${base}.podLabels.${j}.key`, label: 'Label key', pointer: `${ptr}/podLabels/${j}/key`, value: str(l.key) })}
                      {text(ctx, { name: `${base}.podLabels.${j}.value`, label: 'Label value', pointer: `${ptr}/podLabels/${j}/value`, value: str(l.value) })}
                    </div>
                  ))}
                  <RowButton action={`add:${base}.podLabels`} label="Add label pair" />
                </>
              )}
              {refs.profiles || list(m.profileIds).length > 0 ? (
                select(ctx, { name: `${base}.profileIds`, label: 'Container runtime profiles', pointer: `${ptr}/profileIds`, value: list(m.profileIds), multiple: true, options: refOptions(refs.profiles, list(m.profileIds), (x) => x.name) })
              ) : (
                <p class="hint">Your roles do not show runtime profiles, so this mapping cannot name one.</p>
              )}
              <RowButton action={`remove:${base}`} label={`Remove pod mapping ${i + 1}`} cls="link" />
            </fieldset>
          );
        })}
        <RowButton action="add:containerRuntimeProfiles.mappings" label="Add pod mapping" />
      </Section>

      <Section ctx={ctx} id="fileThreatProtection" title="File threat protection" raw={raw} note={<p class="hint">Its scan settings apply to every active policy: <a href="/settings/file-threat-protection">File threat protection settings</a>.</p>} />

      <Section ctx={ctx} id="imageContentProtection" title="Image content protection" raw={raw}>
        {SignatureRules({ ctx, section: obj(raw.imageContentProtection), validators: refs.validators, action })}
      </Section>

      <Section ctx={ctx} id="limitContainerPrivileges" title="Limit container privileges" raw={raw}>
        {select(ctx, { name: 'limitContainerPrivileges.preset', label: 'Preset (Pod Security Standards)', pointer: '/limitContainerPrivileges/preset', value: str(lcp.preset), options: [['', '(none: only the settings below)'], ['baseline', 'Baseline'], ['restricted', 'Restricted']] })}
        {checkboxes(ctx, { name: 'limitContainerPrivileges.settings', label: 'Also block', pointer: '/limitContainerPrivileges/settings', value: list(lcp.settings), options: opts(PRIVILEGE_SETTINGS) })}
      </Section>

      <Section ctx={ctx} id="registriesAllowed" title="Registries allowed" raw={raw}>
        {RegistriesFields({ ctx, raw, registries: refs.registries })}
      </Section>

      <Section ctx={ctx} id="volumesBlocked" title="Volumes blocked" raw={raw}>
        {textarea(ctx, { name: 'volumesBlocked.paths', label: 'Host paths, one a line', pointer: '/volumesBlocked/paths', value: str(obj(raw.volumesBlocked).paths), hint: 'Each must begin with /' })}
      </Section>

      <div class="actions">
        <button type="submit" name="_action" value="save" class="primary">
          Save
        </button>
        <a href="/policies">Cancel</a>
      </div>
    </>
  );
}

/** The add/edit form, in the seed's order (steps 3–16); posts to itself, htmx swaps the answer in place. */
export function PolicyForm(p: PolicyFormProps) {
  return (
    <form id="policy-form" method="post" action={p.action} hx-post={p.action} hx-target="this" hx-swap="outerHTML" novalidate>
      {renderForm(p.errors ?? [], (ctx) => body(ctx, p))}
    </form>
  );
}

export function ConflictPanel(props: { conflict: Conflict }) {
  const { conflict } = props;
  return (
    <section class="conflict" aria-labelledby="conflict-title" role="alert">
      <h2 id="conflict-title">Someone else changed this policy</h2>
      <p>
        Revision {conflict.revision} was saved by <strong>{conflict.by}</strong> at {conflict.at} after you opened the form. Your changes were not saved.
      </p>
      {conflict.changes.length > 0 && (
        <div class="table-wrap" tabindex={0} role="region" aria-label="Fields that differ">
          <table>
            <caption>Fields that differ</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">Their value (saved)</th>
                <th scope="col">Your value</th>
              </tr>
            </thead>
            <tbody>
              {conflict.changes.map((ch) => (
                <tr>
                  <th scope="row">
                    <code>{ch.pointer}</code>
                  </th>
                  <td>
                    <code>{ch.theirs}</code>
                  </td>
                  <td>
                    <code>{ch.yours}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <p>Review the form and save again to overwrite their change, or reload to start from theirs.</p>
      <input type="hidden" name="_overwrite" value={conflict.currentEtag} />
      <div class="actions">
        <button type="submit" name="_action" value="overwrite" class="danger">
          Save mine over theirs
        </button>
        <a href="">Discard mine and reload</a>
      </div>
    </section>
  );
}
