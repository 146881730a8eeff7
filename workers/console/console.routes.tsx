/** @jsxImportSource hono/jsx */
import type { Context, Hono, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import type { AppEnv } from '../app-env.ts';
import { principalFor } from '../auth/authenticate.ts';
import type { OidcVerifier } from '../auth/oidc.ts';
import { ConsoleApi, type Fetcher } from './api.ts';
import type { ConsoleEnv } from './console-env.ts';
import { registerPolicyPages } from './policies/policies.pages.tsx';
import { registerResourcePages } from './pages/resources.pages.tsx';
import { registerAuditPages } from './pages/audit.pages.tsx';
import { finishOidcLogin, nonceMatches, startOidcLogin } from './oidc-login.ts';
import { newCsrfToken, sameToken, seal, SESSION_COOKIE, SESSION_HOURS, unseal } from './session.ts';
import { Layout, NAV } from './ui.tsx';

export interface ConsoleDeps {
  /** The app itself: every read and write goes through its API routes. */
  api: Fetcher;
  /** AES-GCM key sealing session cookies. */
  sessionKey: Promise<CryptoKey>;
  /** Opens the database for a request (the same middleware the API uses). */
  withDb: MiddlewareHandler<AppEnv>;
  oidc?: OidcVerifier;
  now: () => Date;
  /** Reaches the OIDC provider (discovery, token endpoint); the global fetch by default. */
  fetch?: typeof fetch;
  /** Node: serves `/assets/*` from workers/console/static (Workers: Static Assets answer before the Worker runs). */
  assets?: MiddlewareHandler;
}

/** Every path the console owns; the API keeps /v1, /docs, /openapi.json and /healthz. */
const CONSOLE_PREFIXES = ['/policies', '/runtime-profiles', '/scopes', '/signature-validators', '/images', '/registries', '/clusters', '/settings', '/audit', '/webhooks', '/api-keys', '/roles'];

/** Whether a route path belongs to the console (HTML pages) rather than the API the OpenAPI document describes. */
export const isConsoleRoute = (path: string) => ['/', '/login', '/logout'].includes(path) || path.startsWith('/assets/') || CONSOLE_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`));

/** Strict CSP: scripts and styles only from this origin (htmx and the stylesheet), nothing inline, no framing. */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set('content-security-policy', CSP);
  c.res.headers.set('x-content-type-options', 'nosniff');
  c.res.headers.set('referrer-policy', 'same-origin');
  c.res.headers.set('x-frame-options', 'DENY');
  if ((c.res.headers.get('content-type') ?? '').startsWith('text/html')) c.res.headers.set('cache-control', 'no-store');
};

const isHtmx = (c: Context) => c.req.header('hx-request') === 'true';

/** Sends the browser to `to`: htmx follows HX-Redirect, a plain form post a 303. */
export function redirect(c: Context, to: string): Response {
  if (isHtmx(c)) return c.body(null, 200, { 'hx-redirect': to });
  return c.redirect(to, 303);
}

/** Same-origin posts only: a cross-site request (by Sec-Fetch-Site or Origin) is refused before anything runs. */
function crossSite(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = c.req.header('origin');
  return origin !== undefined && origin !== new URL(c.req.url).origin;
}

const cookieOptions = { httpOnly: true, secure: true, sameSite: 'Strict', path: '/' } as const;

function LoginPage(props: { error?: string; next: string; oidc: boolean; oidcClient?: boolean }) {
  return (
    <Layout title="Sign in">
      {props.oidcClient && (
        <p>
          <a class="button primary" href={`/login/oidc?next=${encodeURIComponent(props.next)}`}>
            Sign in with your identity provider
          </a>
        </p>
      )}
      <form method="post" action="/login" class="login">
        <div id="login-error" role="alert">
          {props.error && <p class="problem">{props.error}</p>}
        </div>
        <input type="hidden" name="next" value={props.next} />
        <div class="field">
          <label for="credential">{props.oidc ? 'API key or OIDC token' : 'API key'}</label>
          <p class="hint" id="credential-hint">
            Kept only in an encrypted, HttpOnly session cookie for {SESSION_HOURS} hours.
          </p>
          <input id="credential" name="credential" type="password" autocomplete="current-password" required aria-describedby="credential-hint" aria-invalid={props.error ? 'true' : undefined} />
        </div>
        <button type="submit" class="primary">
          Sign in
        </button>
      </form>
    </Layout>
  );
}

const safeNext = (next: string | undefined) => (next && /^\/(?!\/)[\w\-/?=&.%]*$/.test(next) ? next : '/policies');

export function registerConsole(app: Hono<AppEnv>, deps: ConsoleDeps): void {
  const ui = app as unknown as Hono<ConsoleEnv>;
  if (deps.assets) app.use('/assets/*', deps.assets);

  // Forms are small; a bigger body is refused before it is read (the API's own limit applies to what the console sends on).
  const limit = bodyLimit({ maxSize: 256 * 1024, onError: (c) => c.text('the form is too large', 413) });
  for (const path of ['/', '/login', '/login/*', '/logout', ...CONSOLE_PREFIXES.flatMap((p) => [p, `${p}/*`])]) ui.use(path, securityHeaders, limit);

  const oidcClient = deps.oidc?.config.client !== undefined;
  ui.get('/login', (c) => c.html(<LoginPage next={safeNext(c.req.query('next'))} oidc={deps.oidc !== undefined} oidcClient={oidcClient} />));

  const startSession = async (c: Context, credential: string, next: string) => {
    const exp = deps.now().getTime() + SESSION_HOURS * 3600_000;
    setCookie(c, SESSION_COOKIE, await seal(await deps.sessionKey, { credential, csrf: newCsrfToken(), exp }), { ...cookieOptions, maxAge: SESSION_HOURS * 3600 });
    return c.redirect(next, 303);
  };

  if (deps.oidc?.config.client) {
    const oidc = deps.oidc;
    ui.get('/login/oidc', async (c) => startOidcLogin(c, oidc, await deps.sessionKey, safeNext(c.req.query('next')), deps.now().getTime(), deps.fetch));
    ui.get('/login/oidc/callback', deps.withDb as never, async (c) => {
      const outcome = await finishOidcLogin(c, oidc, await deps.sessionKey, deps.now().getTime(), deps.fetch);
      const fail = (reason: string) => c.html(<LoginPage error={reason} next="/policies" oidc oidcClient />, 401);
      if (!outcome.ok) return fail(outcome.reason);
      const valid = async (t: string | undefined) => t !== undefined && (await principalFor(c.get('db'), t, { oidc, now: deps.now() })) !== undefined;
      if (await valid(outcome.accessToken)) return startSession(c, outcome.accessToken!, safeNext(outcome.next));
      if (outcome.idToken && nonceMatches(outcome.idToken, outcome.nonce) && (await valid(outcome.idToken))) return startSession(c, outcome.idToken, safeNext(outcome.next));
      return fail('The identity provider signed you in, but its token names no tenant or audience this server accepts.');
    });
  }

  ui.post('/login', deps.withDb as never, async (c) => {
    if (crossSite(c)) return c.text('cross-site sign-in refused', 403);
    const form = await c.req.parseBody();
    const credential = typeof form.credential === 'string' ? form.credential.trim() : '';
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    const principal = credential ? await principalFor(c.get('db'), credential, { oidc: deps.oidc, now: deps.now() }) : undefined;
    if (!principal) {
      return c.html(<LoginPage error="That credential is unknown, expired or revoked." next={next} oidc={deps.oidc !== undefined} oidcClient={oidcClient} />, 401);
    }
    return startSession(c, credential, next);
  });

  /** Signed in, CSRF-checked, and the principal resolved exactly as the API resolves it. */
  const signedIn: MiddlewareHandler<ConsoleEnv> = async (c, next) => {
    const session = await unseal(await deps.sessionKey, getCookie(c, SESSION_COOKIE), deps.now().getTime());
    const toLogin = () => {
      deleteCookie(c, SESSION_COOKIE, cookieOptions);
      return redirect(c, `/login?next=${encodeURIComponent(c.req.method === 'GET' ? c.req.path : '/policies')}`);
    };
    if (!session) return toLogin();
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
      if (crossSite(c)) return c.text('cross-site request refused', 403);
      const header = c.req.header('x-csrf-token');
      const field = header ?? ((await c.req.parseBody())._csrf as string | undefined);
      if (!sameToken(typeof field === 'string' ? field : undefined, session.csrf)) return c.text('missing or wrong CSRF token; reload the page', 403);
    }
    const principal = await principalFor(c.get('db'), session.credential, { oidc: deps.oidc, now: deps.now() });
    if (!principal) return toLogin();
    c.set('principal', principal);
    c.set('session', session);
    c.set('api', new ConsoleApi(deps.api, session.credential, c));
    c.set('page', { rights: principal.rights, subject: principal.subject, csrf: session.csrf, path: c.req.path });
    await next();
  };

  for (const path of ['/', '/logout', ...CONSOLE_PREFIXES.flatMap((p) => [p, `${p}/*`])]) ui.use(path, deps.withDb as never, signedIn);

  ui.post('/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, cookieOptions);
    return c.redirect('/login', 303);
  });

  ui.get('/', (c) => {
    const first = NAV.find((n) => c.get('page').rights.has(n.right));
    if (!first) return c.html(<Layout title="Nothing to show" page={c.get('page')}><p>Your roles grant no right this console can show.</p></Layout>);
    return c.redirect(first.href, 302);
  });

  registerPolicyPages(ui);
  registerResourcePages(ui);
  registerAuditPages(ui);
}
