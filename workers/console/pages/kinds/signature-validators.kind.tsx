/** @jsxImportSource hono/jsx */
import { listErrors, RowButton, select, text, textarea } from '../../fields.tsx';
import { rows, str, type Raw } from '../../forms.ts';
import type { ResourcePage } from '../resource-kind.ts';
import { name, nameAndDescription, optional, when } from './common.tsx';

const blankIdentity = (): Raw => ({ issuer: '', issuerRegExp: '', subject: '', subjectRegExp: '' });
const METHODS: Array<[string, string]> = [
  ['publicKey', 'cosign public key'],
  ['keyless', 'Keyless (Fulcio certificate identity)'],
];

/** A pasted trusted_root.json; text that is not JSON goes to the API as text, which answers at the field. */
function trustedRoot(raw: Raw) {
  const text = str(raw.trustedRoot).trim();
  if (text === '') return {};
  try {
    return { trustedRoot: JSON.parse(text) as unknown };
  } catch {
    return { trustedRoot: text };
  }
}

/**
 * cosign validators: a public key, or keyless identities (issuer and subject, each exact or a regular expression).
 * The method drop-down decides which fields the form shows (htmx re-renders it on change; without JavaScript a
 * button does), and only the chosen method's fields are sent.
 */
export const validators: ResourcePage = {
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
    blank: blankIdentity,
    fromDoc: (doc) => ({
      name: doc?.name ?? '',
      description: doc?.description ?? '',
      method: doc?.verification?.method ?? 'publicKey',
      publicKey: doc?.verification?.publicKey ?? '',
      identities: ((doc?.verification?.identities as Array<Record<string, string>>) ?? [{}]).map((i) => ({ issuer: i.issuer ?? '', issuerRegExp: i.issuerRegExp ?? '', subject: i.subject ?? '', subjectRegExp: i.subjectRegExp ?? '' })),
      trustedRoot: doc?.verification?.trustedRoot ? JSON.stringify(doc.verification.trustedRoot, null, 2) : '',
      // Absent and `deny` mean the same (fail closed): one choice in the form.
      onRegistryError: doc?.onRegistryError === 'warn' ? 'warn' : '',
    }),
    toDoc: (raw) => ({
      name: str(raw.name),
      ...(optional(str(raw.description)) ? { description: str(raw.description) } : {}),
      type: 'cosign',
      verification:
        str(raw.method) === 'keyless'
          ? { method: 'keyless', identities: rows(raw.identities).map((i) => Object.fromEntries(Object.entries(i).filter(([, v]) => str(v).trim() !== '').map(([k, v]) => [k, str(v).trim()]))), ...trustedRoot(raw) }
          : { method: 'publicKey', publicKey: str(raw.publicKey).trim(), ...trustedRoot(raw) },
      ...(str(raw.onRegistryError) ? { onRegistryError: str(raw.onRegistryError) } : {}),
    }),
    render: (ctx, raw, _refs, action) => {
      const keyless = str(raw.method) === 'keyless';
      const identities = rows(raw.identities).length > 0 ? rows(raw.identities) : [blankIdentity()];
      return (
        <>
          {nameAndDescription(ctx, raw)}
          {select(ctx, { name: 'method', label: 'Verification', pointer: '/verification/method', value: keyless ? 'keyless' : 'publicKey', options: METHODS, htmxRefresh: action })}
          {keyless ? (
            <fieldset class="section" id="method-fields">
              <legend>Keyless identities</legend>
              <p class="hint">A signature counts when its Fulcio certificate names one of these identities. Give an exact value or a pattern (matched against the whole value) for each of issuer and subject.</p>
              {listErrors(ctx, '/verification/identities')}
              {identities.map((i, n) => (
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
          ) : (
            <div id="method-fields">{textarea(ctx, { name: 'publicKey', label: 'Public key (PEM)', pointer: '/verification/publicKey', value: str(raw.publicKey), rows: 5, hint: 'ECDSA P-256/384/521, RSA or Ed25519, as cosign generate-key-pair writes it (cosign.pub)' })}</div>
          )}
          {textarea(ctx, {
            name: 'trustedRoot',
            label: 'Trusted root (optional)',
            pointer: '/verification/trustedRoot',
            value: str(raw.trustedRoot),
            rows: 4,
            hint: keyless ? "A private Sigstore deployment's trusted_root.json; Sigstore's public-good root when empty" : "Checks the transparency-log entries and timestamps of keyed bundles: a trusted_root.json; Sigstore's public-good root when empty",
          })}
          {select(ctx, {
            name: 'onRegistryError',
            label: 'When the registry cannot be reached (Enforce mode)',
            pointer: '/onRegistryError',
            value: str(raw.onRegistryError),
            options: [['', 'Deny the pod (the default)'], ['warn', 'Admit with a warning']],
          })}
        </>
      );
    },
  },
};
