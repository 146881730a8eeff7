/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import { redirect } from '../console.routes.tsx';
import type { ConsoleEnv } from '../console-env.ts';
import { Csrf, Layout, ProblemBox } from '../ui.tsx';

/** Revoking an API key, after a confirmation; the key's record stays, it authenticates no more. */
export function registerApiKeyPages(ui: Hono<ConsoleEnv>): void {
  ui.get('/api-keys/:id/revoke', async (c) => {
    const res = await c.get('api').get(`/v1/api-keys/${c.req.param('id')}`);
    if (!res.ok) return c.html(<Layout title="Revoke API key" page={c.get('page')}><ProblemBox problem={res.problem} /></Layout>, 404);
    return c.html(
      <Layout title={`Revoke API key ${res.body.name}?`} page={c.get('page')}>
        <form method="post" action={`/api-keys/${res.body.id}/revoke`} class="confirm">
          <Csrf page={c.get('page')} />
          <p>Anything using this key (id {res.body.id}) is refused from now on, this console too if you signed in with it.</p>
          <button type="submit" class="danger">
            Revoke
          </button>{' '}
          <a href="/api-keys">Keep it</a>
        </form>
      </Layout>,
    );
  });

  ui.post('/api-keys/:id/revoke', async (c) => {
    const res = await c.get('api').call('POST', `/v1/api-keys/${c.req.param('id')}/revoke`);
    if (res.ok) return redirect(c, '/api-keys');
    return c.html(<Layout title="Revoke API key" page={c.get('page')}><ProblemBox problem={res.problem} /></Layout>, res.status as 403);
  });
}
