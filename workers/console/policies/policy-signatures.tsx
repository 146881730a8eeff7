/** @jsxImportSource hono/jsx */
import { listErrors, refOptions, RowButton, select, text, type FormCtx } from '../fields.tsx';
import { rows, str, type Raw } from '../forms.ts';

/** A signature validator as the rule rows show it: enough to tell what a rule will accept. */
export interface ValidatorChoice {
  id: string;
  name: string;
  verification: {
    method: 'publicKey' | 'keyless';
    identities?: Array<{ issuer?: string; issuerRegExp?: string; subject?: string; subjectRegExp?: string }>;
    trustedRoot?: unknown;
  };
  onRegistryError?: 'deny' | 'warn';
  /** SHA-256 of the public key's DER (SubjectPublicKeyInfo), hex; for public-key validators. */
  fingerprint?: string;
}

const METHOD: Record<string, string> = { publicKey: 'cosign key', keyless: 'keyless' };

/** SHA-256 of a PEM public key's DER, as colon-separated hex; undefined for text that is not PEM. */
export async function keyFingerprint(pem: string): Promise<string | undefined> {
  const body = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem)?.[1];
  if (!body) return undefined;
  try {
    const der = Uint8Array.from(atob(body.replace(/\s+/g, '')), (ch) => ch.charCodeAt(0));
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', der));
    return [...digest].map((b) => b.toString(16).padStart(2, '0')).join(':');
  } catch {
    return undefined;
  }
}

/** What the chosen validator checks, by its method: the key's fingerprint, or the certificate identities it accepts. */
function ValidatorSummary(props: { validator: ValidatorChoice | undefined; id: string }) {
  const v = props.validator;
  if (!v) return null;
  const onError = v.onRegistryError === 'warn' ? 'admits with a warning' : 'denies';
  return (
    <div class="validator-summary" id={props.id}>
      {v.verification.method === 'keyless' ? (
        <>
          <p>
            Keyless: accepts a signature whose Fulcio certificate names one of these identities ({v.verification.trustedRoot ? 'a private Sigstore trusted root' : "Sigstore's public-good root"}):
          </p>
          <ul>
            {(v.verification.identities ?? []).map((i) => (
              <li>
                issuer {i.issuer !== undefined ? <code>{i.issuer}</code> : <>matching <code>{i.issuerRegExp}</code></>}, subject{' '}
                {i.subject !== undefined ? <code>{i.subject}</code> : <>matching <code>{i.subjectRegExp}</code></>}
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>
          cosign key: accepts a signature made with the key whose SHA-256 fingerprint is <code class="fingerprint">{v.fingerprint ?? 'unknown'}</code>.
        </p>
      )}
      <p>When the registry cannot be reached in Enforce mode it {onError}.</p>
    </div>
  );
}

/**
 * The image content protection rules. "Signatures: Check" shows the validator drop-down; choosing a validator shows
 * what it accepts by its method (a key's fingerprint, or keyless certificate identities). Both drop-downs re-render
 * the form through htmx on change (a button does without JavaScript). Called as a function (see RegistriesFields).
 */
export function SignatureRules(props: { ctx: FormCtx; section: Raw; validators: readonly ValidatorChoice[] | undefined; action: string }) {
  const { ctx, section, validators, action } = props;
  return (
    <>
      {listErrors(ctx, '/imageContentProtection/rules')}
      {rows(section.rules).map((r, i) => {
        const base = `imageContentProtection.rules.${i}`;
        const ptr = `/imageContentProtection/rules/${i}`;
        const verify = str(r.verify) !== 'false';
        const chosen = validators?.find((v) => v.id === str(r.validatorId));
        return (
          <fieldset class="mapping">
            <legend>Signature verification rule {i + 1}</legend>
            {text(ctx, { name: `${base}.registryUrlTemplate`, label: 'Image registry URL template', pointer: `${ptr}/registryUrlTemplate`, value: str(r.registryUrlTemplate), hint: i === 0 ? 'e.g. ghcr.io/acme/**; the most specific matching rule decides' : undefined })}
            {select(ctx, { name: `${base}.verify`, label: 'Signatures', pointer: `${ptr}/verify`, value: verify ? 'true' : 'false', options: [['true', 'Check'], ['false', "Don't check"]], htmxRefresh: action })}
            {verify && !validators && !str(r.validatorId) ? (
              <p class="hint">Your roles do not show signature validators, so this rule cannot name one.</p>
            ) : verify ? (
              <>
                {select(ctx, {
                  name: `${base}.validatorId`,
                  label: 'Signature validator',
                  pointer: `${ptr}/validatorId`,
                  value: str(r.validatorId),
                  options: [['', '(choose a validator)'], ...refOptions(validators, [str(r.validatorId)], (v) => `${v.name} (${METHOD[v.verification.method] ?? v.verification.method})`)],
                  htmxRefresh: action,
                })}
                <ValidatorSummary validator={chosen} id={`rule-${i}-validator`} />
              </>
            ) : (
              <>
                <p class="hint">Images matching this template are admitted without a signature check.</p>
                {/* Kept so that switching back to Check restores the choice. */}
                {str(r.validatorId) && <input type="hidden" name={`${base}.validatorId`} value={str(r.validatorId)} />}
              </>
            )}
            <RowButton action={`remove:${base}`} label={`Remove rule ${i + 1}`} cls="link" />
          </fieldset>
        );
      })}
      <RowButton action="add:imageContentProtection.rules" label="Add signature verification rule" />
    </>
  );
}
