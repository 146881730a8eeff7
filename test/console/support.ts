import type { Harness, TenantClient } from '../support/harness.ts';

/** A signed-in console user driving the app with form posts, as a browser without JavaScript would. */
export interface ConsoleUser {
  cookie: string;
  csrf: string;
  get(path: string, headers?: Record<string, string>): Promise<{ status: number; html: string; headers: Headers }>;
  post(path: string, form: Array<[string, string]> | Record<string, string>, headers?: Record<string, string>): Promise<{ status: number; html: string; headers: Headers }>;
}

export const ORIGIN = 'http://localhost';

export async function signIn(h: Harness, tenant: TenantClient, key = tenant.key): Promise<ConsoleUser> {
  const res = await h.app.request(`${ORIGIN}/login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: ORIGIN }, body: new URLSearchParams({ credential: key }) });
  if (res.status !== 303) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  const cookie = res.headers.get('set-cookie')!.split(';')[0]!;
  const user: ConsoleUser = {
    cookie,
    csrf: '',
    async get(path, headers = {}) {
      const r = await h.app.request(`${ORIGIN}${path}`, { headers: { cookie, ...headers } });
      return { status: r.status, html: await r.text(), headers: r.headers };
    },
    async post(path, form, headers = {}) {
      const body = new URLSearchParams(Array.isArray(form) ? form : Object.entries(form));
      if (!body.has('_csrf')) body.set('_csrf', user.csrf);
      const r = await h.app.request(`${ORIGIN}${path}`, { method: 'POST', headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
      return { status: r.status, html: await r.text(), headers: r.headers };
    },
  };
  const page = await user.get('/policies');
  user.csrf = /name="_csrf" value="([^"]+)"/.exec(page.html)![1]!;
  return user;
}

/** The text of the field errors shown next to the field `name`. */
export function fieldErrors(html: string, name: string): string | undefined {
  const id = 'f-' + name.replace(/[^A-Za-z0-9_-]/g, '-');
  return new RegExp(`<ul class="field-errors" id="${id}-error">(.*?)</ul>`, 's').exec(html)?.[1]?.replace(/<[^>]+>/g, ' ').trim();
}
