import type { Context } from 'hono';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { decodeJwt } from 'jose';
import type { OidcVerifier } from '../auth/oidc.ts';
import { newCsrfToken, seal, unseal } from './session.ts';
import { base64urlBytes } from '../base64url.ts';

/**
 * Console sign-in through the OIDC provider: authorization code flow with PKCE (S256), state and nonce. The pending
 * sign-in is sealed into a short-lived cookie; it is SameSite=Lax because the provider's redirect back is a cross-site
 * top-level navigation, which a Strict cookie would not accompany. The token the API accepts (the access token when it
 * is a JWT for the API's audience, else the ID token) becomes the session's credential.
 */
export const OIDC_COOKIE = '__Host-palisade-oidc';
const PENDING_MS = 10 * 60_000;

interface Endpoints {
  authorization_endpoint: string;
  token_endpoint: string;
}


async function discover(verifier: OidcVerifier, fetcher: typeof fetch): Promise<Endpoints> {
  const res = await fetcher(`${verifier.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`OIDC discovery answered ${res.status}`);
  const doc = (await res.json()) as Partial<Endpoints>;
  if (typeof doc.authorization_endpoint !== 'string' || typeof doc.token_endpoint !== 'string') throw new Error('OIDC discovery lacks the authorization or token endpoint');
  return doc as Endpoints;
}

const redirectUri = (c: Context) => `${new URL(c.req.url).origin}/login/oidc/callback`;

/** Starts the sign-in: a redirect to the provider with a fresh state, nonce and PKCE challenge. */
export async function startOidcLogin(c: Context, verifier: OidcVerifier, key: CryptoKey, next: string, now: number, fetcher: typeof fetch = fetch): Promise<Response> {
  const client = verifier.config.client!;
  const endpoints = await discover(verifier, fetcher);
  const codeVerifier = base64urlBytes(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64urlBytes(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier))));
  const state = newCsrfToken();
  const nonce = newCsrfToken();
  // The session sealer's shape: `credential` holds the PKCE verifier, `csrf` the state; `next` and nonce ride along.
  const sealed = await seal(key, { credential: codeVerifier, csrf: state, exp: now + PENDING_MS, ...({ nonce, next } as object) });
  setCookie(c, OIDC_COOKIE, sealed, { httpOnly: true, secure: true, sameSite: 'Lax', path: '/', maxAge: PENDING_MS / 1000 });
  const url = new URL(endpoints.authorization_endpoint);
  for (const [k, v] of Object.entries({ response_type: 'code', client_id: client.id, redirect_uri: redirectUri(c), scope: 'openid profile', state, nonce, code_challenge: challenge, code_challenge_method: 'S256' })) url.searchParams.set(k, v);
  return c.redirect(url.href, 302);
}

export type OidcOutcome = { ok: true; accessToken?: string; idToken?: string; next: string; nonce: string } | { ok: false; reason: string };

/** The provider's redirect back: checks the state, redeems the code with the PKCE verifier, answers candidate tokens. */
export async function finishOidcLogin(c: Context, verifier: OidcVerifier, key: CryptoKey, now: number, fetcher: typeof fetch = fetch): Promise<OidcOutcome> {
  const pending = (await unseal(key, getCookie(c, OIDC_COOKIE), now)) as (Awaited<ReturnType<typeof unseal>> & { nonce?: string; next?: string }) | undefined;
  deleteCookie(c, OIDC_COOKIE, { secure: true, path: '/' });
  const { code, state, error } = c.req.query();
  if (error) return { ok: false, reason: `the identity provider refused: ${error}` };
  if (!pending || !state || state !== pending.csrf || !code) return { ok: false, reason: 'the sign-in expired or did not start here; try again' };
  const client = verifier.config.client!;
  const endpoints = await discover(verifier, fetcher);
  const body = new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri(c), client_id: client.id, code_verifier: pending.credential });
  if (client.secret) body.set('client_secret', client.secret);
  const res = await fetcher(endpoints.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body });
  if (!res.ok) return { ok: false, reason: `the identity provider did not redeem the code (${res.status})` };
  const tokens = (await res.json()) as { access_token?: string; id_token?: string };
  const jwt = (t: unknown) => (typeof t === 'string' && t.split('.').length === 3 ? t : undefined);
  return { ok: true, accessToken: jwt(tokens.access_token), idToken: jwt(tokens.id_token), next: pending.next ?? '/policies', nonce: pending.nonce ?? '' };
}

/** An ID token used as the credential must carry the nonce this sign-in sent. */
export function nonceMatches(idToken: string, nonce: string): boolean {
  try {
    return nonce !== '' && decodeJwt(idToken).nonce === nonce;
  } catch {
    return false;
  }
}
