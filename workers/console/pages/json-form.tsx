/** @jsxImportSource hono/jsx */
import type { FieldError } from '../../../schema/problem.ts';

/** Kinds without a dedicated form: the document as JSON, each API error listed with the member it names. */
export function JsonEditor(props: { value: string; errors: FieldError[] }) {
  const invalid = props.errors.length > 0;
  return (
    <div class={invalid ? 'field invalid' : 'field'}>
      <label for="f-document">Document (JSON, as the API takes it)</label>
      <textarea id="f-document" name="_document" rows={16} spellcheck={false} aria-invalid={invalid ? 'true' : undefined} aria-describedby={invalid ? 'f-document-error' : undefined}>
        {props.value}
      </textarea>
      {invalid && (
        <ul class="field-errors" id="f-document-error">
          {props.errors.map((e) => (
            <li>
              <code>{e.pointer ?? e.parameter ?? '/'}</code>: {e.detail}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
