import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { oidcVerifier } from '../../workers/auth/oidc.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { ORIGIN } from './support.ts';

/** A small OIDC provider on loopback: discovery, an authorize endpoint that consents at once, PKCE-checking token endpoint. */
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
const codes = new Map<string, { challenge: string; nonce: string; redirect: string }>();
const idp = { tenantId: '', wrongNonce: false, issuer: '' };
const server: Server = createServer(async (req, res) => {
  const url = new URL(req.url!, idp.issuer);
  if (url.pathname === '/.well-known/openid-configuration') {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ issuer: idp.issuer, authorization_endpoint: `${idp.issuer}/authorize`, token_endpoint: `${idp.issuer}/token` }));
  }
  if (url.pathname === '/authorize') {
    const p = url.searchParams;
    if (p.get('code_challenge_method') !== 'S256' || p.get('client_id') !== 'palisade-console') return res.writeHead(400).end();
    const code = crypto.randomUUID();
    codes.set(code, { challenge: p.get('code_challenge')!, nonce: p.get('nonce')!, redirect: p.get('redirect_uri')! });
    return res.writeHead(302, { location: `${p.get('redirect_uri')}?code=${code}&state=${p.get('state')}` }).end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    let text = '';
    for await (const chunk of req) text += chunk;
    const form = new URLSearchParams(text);
    const grant = codes.get(form.get('code') ?? '');
    codes.delete(form.get('code') ?? '');
    const pkce = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
    if (!grant || grant.challenge !== pkce || grant.redirect !== form.get('redirect_uri')) return res.writeHead(400).end('{"error":"invalid_grant"}');
    const idToken = await new SignJWT({ nonce: idp.wrongNonce ? 'other' : grant.nonce, palisade_tenant: idp.tenantId, palisade_roles: ['administrator'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(idp.issuer)
      .setAudience('palisade-console')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify({ access_token: 'opaque-not-a-jwt', id_token: idToken, token_type: 'Bearer' }));
  }
  res.writeHead(404).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
idp.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const db = await testPglite();
afterAll(async () => {
  await db.close();
  await new Promise((r) => server.close(r));
});
const oidc = oidcVerifier({ issuer: idp.issuer, audience: 'palisade-console', tenantClaim: 'palisade_tenant', rolesClaim: 'palisade_roles', client: { id: 'palisade-console' } }, createLocalJWKSet({ keys: [jwk] }));
const h = harness(db, { oidc });
const acme = await h.tenant('acme');
idp.tenantId = acme.id;

async function signInThroughProvider() {
  const start = await h.app.request(`${ORIGIN}/login/oidc?next=/audit`);
  expect(start.status).toBe(302);
  const pending = start.headers.get('set-cookie')!;
  expect(pending).toMatch(/^__Host-palisade-oidc=.*HttpOnly.*Secure.*SameSite=Lax/);
  const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
  const callback = authorize.headers.get('location')!;
  expect(callback.startsWith(`${ORIGIN}/login/oidc/callback?`)).toBe(true);
  return { callback, cookie: pending.split(';')[0]! };
}

describe('console sign-in through OIDC (authorization code + PKCE)', () => {
  it('offers the provider on the sign-in page and starts a session with the ID token', async () => {
    expect(await (await h.app.request(`${ORIGIN}/login`)).text()).toContain('Sign in with your identity provider');
    const { callback, cookie } = await signInThroughProvider();
    const done = await h.app.request(callback, { headers: { cookie } });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/audit');
    const session = done.headers.getSetCookie().find((c) => c.startsWith('__Host-palisade-session='))!.split(';')[0]!;
    const page = await h.app.request(`${ORIGIN}/policies`, { headers: { cookie: session } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('oidc:alice');
  });

  it('refuses a callback without its pending cookie, with another state, or an ID token with another nonce', async () => {
    const first = await signInThroughProvider();
    expect((await h.app.request(first.callback)).status).toBe(401);
    const second = await signInThroughProvider();
    const forged = second.callback.replace(/state=[^&]+/, 'state=forged');
    expect((await h.app.request(forged, { headers: { cookie: second.cookie } })).status).toBe(401);
    idp.wrongNonce = true;
    try {
      const third = await signInThroughProvider();
      const res = await h.app.request(third.callback, { headers: { cookie: third.cookie } });
      expect(res.status).toBe(401);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('__Host-palisade-session=v1'))).toBe(false);
    } finally {
      idp.wrongNonce = false;
    }
  });
});
