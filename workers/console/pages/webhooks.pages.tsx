/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../console-env.ts';
import { Csrf, fmtTime, Layout, ProblemBox, Table } from '../ui.tsx';

/** A webhook's delivery log, with retry for failed deliveries and a test send. */
export function registerWebhookPages(ui: Hono<ConsoleEnv>): void {
  ui.get('/webhooks/:id/deliveries', async (c) => {
    const api = c.get('api');
    const id = c.req.param('id');
    const status = c.req.query('status');
    const [hook, log] = await Promise.all([api.get(`/v1/webhooks/${id}`), api.get(`/v1/webhooks/${id}/deliveries?limit=100${status ? `&status=${encodeURIComponent(status)}` : ''}`)]);
    if (!hook.ok) return c.html(<Layout title="Webhook" page={c.get('page')}><ProblemBox problem={hook.problem} /></Layout>, 404);
    const manage = c.get('page').rights.has('webhooks.manage');
    return c.html(
      <Layout title={`Deliveries of ${hook.body.name}`} page={c.get('page')}>
        <ProblemBox problem={log.problem} />
        <form method="get" class="filters" role="search" aria-label="Filter deliveries">
          <div class="field">
            <label for="status">Status</label>
            <select id="status" name="status">
              {['', 'pending', 'delivered', 'failed'].map((s) => (
                <option value={s} selected={(status ?? '') === s}>{s || 'Any'}</option>
              ))}
            </select>
          </div>
          <button type="submit">Filter</button>
        </form>
        {manage && (
          <form method="post" action={`/webhooks/${id}/test`}>
            <Csrf page={c.get('page')} />
            <button type="submit">Send a test delivery</button>
          </form>
        )}
        <Table
          caption="Deliveries, newest first"
          head={['Event', 'Status', 'Attempts', 'Last answer', 'Created', ...(manage ? ['Action'] : [])]}
          rows={(log.ok ? log.body.items : []).map((d: Record<string, any>) => (
            <tr>
              <th scope="row">{d.eventType}</th>
              <td>{d.status}</td>
              <td>{d.attempts}</td>
              <td>{d.lastStatusCode ?? d.lastError ?? '—'}</td>
              <td>{fmtTime(d.createdAt)}</td>
              {manage && (
                <td>
                  {d.status === 'failed' && (
                    <form method="post" action={`/webhooks/${id}/deliveries/${d.id}/retry`}>
                      <Csrf page={c.get('page')} />
                      <button type="submit">Retry</button>
                    </form>
                  )}
                </td>
              )}
            </tr>
          ))}
        />
      </Layout>,
    );
  });

  ui.post('/webhooks/:id/test', async (c) => {
    const res = await c.get('api').call('POST', `/v1/webhooks/${c.req.param('id')}/test`);
    if (!res.ok) return c.html(<Layout title="Test delivery" page={c.get('page')}><ProblemBox problem={res.problem} /></Layout>, res.status as 409);
    return c.redirect(`/webhooks/${c.req.param('id')}/deliveries`, 303);
  });

  ui.post('/webhooks/:id/deliveries/:deliveryId/retry', async (c) => {
    const res = await c.get('api').call('POST', `/v1/webhooks/${c.req.param('id')}/deliveries/${c.req.param('deliveryId')}/retry`);
    if (!res.ok) return c.html(<Layout title="Retry" page={c.get('page')}><ProblemBox problem={res.problem} /></Layout>, res.status as 409);
    return c.redirect(`/webhooks/${c.req.param('id')}/deliveries`, 303);
  });
}
