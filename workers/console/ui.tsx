/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { Right } from '../../schema/rights.ts';

/** htmx 2.x, pinned on purpose: 2.x does not swap 4xx answers by default, so the console lists the ones it renders. */
export const HTMX_FILE = '/assets/htmx-2.0.11.min.js';

/** Answers whose body is a form or panel to show (422 validation, 412 conflict, 409 in use) are swapped like 2xx. */
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false, // an inline <style> the CSP would refuse
  allowEval: false,
  allowScriptTags: false,
  selfRequestsOnly: true,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '(409|412|422)', swap: true },
    { code: '[45]..', swap: false, error: true },
  ],
});

export const NAV: Array<{ href: string; label: string; right: Right }> = [
  { href: '/policies', label: 'Runtime policies', right: 'runtimePolicies.view' },
  { href: '/runtime-profiles', label: 'Runtime profiles', right: 'runtimeProfiles.view' },
  { href: '/scopes', label: 'Scopes', right: 'scopes.view' },
  { href: '/signature-validators', label: 'Signature validators', right: 'signatureValidators.view' },
  { href: '/images', label: 'Images', right: 'images.view' },
  { href: '/registries', label: 'Registries', right: 'registries.view' },
  { href: '/clusters', label: 'Clusters', right: 'clusters.view' },
  { href: '/settings/file-threat-protection', label: 'File threat protection', right: 'fileThreatProtection.view' },
  { href: '/audit', label: 'Audit', right: 'audit.view' },
  { href: '/webhooks', label: 'Webhooks', right: 'webhooks.view' },
  { href: '/api-keys', label: 'API keys', right: 'apiKeys.view' },
  { href: '/roles', label: 'Roles', right: 'roles.view' },
];

export interface PageContext {
  rights: ReadonlySet<Right>;
  subject: string;
  csrf: string;
  path: string;
}

export function Layout(props: { title: string; page?: PageContext; children?: Child; flash?: string }) {
  const { page } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · Palisade`}</title>
        <link rel="icon" href="data:," />
        <link rel="stylesheet" href="/assets/console.css" />
        <script src={HTMX_FILE} defer></script>
      </head>
      <body hx-headers={page ? JSON.stringify({ 'x-csrf-token': page.csrf }) : undefined}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">Palisade</a>
          {page && (
            <form method="post" action="/logout" class="signout">
              <input type="hidden" name="_csrf" value={page.csrf} />
              <span class="who">{page.subject}</span>
              <button type="submit">Sign out</button>
            </form>
          )}
        </header>
        <div class="shell">
          {page && (
            <nav aria-label="Console">
              <ul>
                {NAV.filter((n) => page.rights.has(n.right)).map((n) => (
                  <li>
                    <a href={n.href} aria-current={page.path.startsWith(n.href) ? 'page' : undefined}>
                      {n.label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <main id="main" tabindex={-1}>
            <div id="flash" role="status" aria-live="polite">
              {props.flash && <p class="flash">{props.flash}</p>}
            </div>
            <h1>{props.title}</h1>
            {props.children}
          </main>
        </div>
      </body>
    </html>
  );
}

export const fmtTime = (iso: string | null | undefined) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '—');

/** The CSRF token of the session, for forms that work without JavaScript too. */
export const Csrf = (props: { page: PageContext }) => <input type="hidden" name="_csrf" value={props.page.csrf} />;

/** A problem the API answered that belongs to no field: shown in a live region so screen readers announce it. */
export function ProblemBox(props: { problem?: { title: string; detail?: string } | undefined; id?: string }) {
  return (
    <div id={props.id ?? 'problem'} role="alert" class={props.problem ? 'problem' : undefined}>
      {props.problem && (
        <p>
          <strong>{props.problem.title}.</strong> {props.problem.detail}
        </p>
      )}
    </div>
  );
}

export function Table(props: { caption: string; head: string[]; rows: Child[]; empty?: string }) {
  return (
    <div class="table-wrap" tabindex={0} role="region" aria-label={props.caption}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.head.map((h) => (
              <th scope="col">{h}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length > 0 ? (
            props.rows
          ) : (
            <tr>
              <td colspan={props.head.length}>{props.empty ?? 'Nothing here yet.'}</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
