/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../console-env.ts';
import { Csrf, fmtTime, Layout, ProblemBox, Table } from '../ui.tsx';

/** A cluster's agent: what it reported (bundle revision, last poll, what it enforces), its credentials, enrollment. */
export function registerClusterPages(ui: Hono<ConsoleEnv>): void {
  ui.get('/clusters/:id/agent', async (c) => {
    const api = c.get('api');
    const id = c.req.param('id');
    const [cluster, status, credentials, bundle] = await Promise.all([
      api.get(`/v1/clusters/${id}`),
      api.get(`/v1/clusters/${id}/status`),
      api.get(`/v1/clusters/${id}/credentials`),
      // What the agent enforces: the bundle it is served (needs runtimePolicies.view too; left out without it).
      c.get('page').rights.has('runtimePolicies.view') ? api.get(`/v1/clusters/${id}/bundle`) : Promise.resolve(undefined),
    ]);
    if (!cluster.ok) return c.html(<Layout title="Cluster" page={c.get('page')}><ProblemBox problem={cluster.problem} /></Layout>, 404);
    const s = status.ok ? (status.body as Record<string, unknown>) : {};
    const { reportedAt, ...reported } = s;
    const canManage = c.get('page').rights.has('clusters.manage');
    return c.html(
      <Layout title={`Agent of cluster ${cluster.body.name}`} page={c.get('page')}>
        <section aria-labelledby="status-h">
          <h2 id="status-h">Status</h2>
          {reportedAt ? (
            <dl class="facts">
              <dt>Last report</dt>
              <dd>{fmtTime(reportedAt as string)}</dd>
              {Object.entries(reported).map(([k, v]) => (
                <>
                  <dt>{k}</dt>
                  <dd>
                    <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code>
                  </dd>
                </>
              ))}
            </dl>
          ) : (
            <p>No agent has reported yet.</p>
          )}
        </section>
        {bundle?.ok && (
          <section aria-labelledby="bundle-h">
            <h2 id="bundle-h">What it enforces</h2>
            <Table
              caption="Runtime policies in the cluster's current bundle"
              head={['Policy', 'Mode', 'Sections on']}
              rows={((bundle.body.policies ?? []) as Array<Record<string, any>>).map((p) => (
                <tr>
                  <th scope="row">
                    {p.name} (revision {p.revision})
                  </th>
                  <td>{p.mode}</td>
                  <td>{Object.entries(p).filter(([, v]) => v && typeof v === 'object' && (v as { enabled?: boolean }).enabled).map(([k]) => k).join(', ')}</td>
                </tr>
              ))}
              empty="No policy applies to this cluster."
            />
          </section>
        )}
        <section aria-labelledby="creds-h">
          <h2 id="creds-h">Credentials</h2>
          <Table
            caption="Agent credentials"
            head={['Prefix', 'Created', 'Last used', 'Expires', 'Revoked']}
            rows={(credentials.ok ? credentials.body.items : []).map((k: Record<string, string | null>) => (
              <tr>
                <th scope="row">{k.prefix}</th>
                <td>{fmtTime(k.createdAt)}</td>
                <td>{fmtTime(k.lastUsedAt)}</td>
                <td>{fmtTime(k.expiresAt)}</td>
                <td>{fmtTime(k.revokedAt)}</td>
              </tr>
            ))}
          />
        </section>
        {canManage && (
          <section aria-labelledby="enroll-h">
            <h2 id="enroll-h">Enroll an agent</h2>
            <form method="post" action={`/clusters/${id}/enrollment-token`} hx-post={`/clusters/${id}/enrollment-token`} hx-target="#token" hx-swap="innerHTML">
              <Csrf page={c.get('page')} />
              <button type="submit">Create enrollment token</button>
            </form>
            <div id="token" aria-live="polite"></div>
          </section>
        )}
      </Layout>,
    );
  });

  ui.post('/clusters/:id/enrollment-token', async (c) => {
    const res = await c.get('api').call('POST', `/v1/clusters/${c.req.param('id')}/enrollment-tokens`);
    const body = res.ok ? (
      <div class="secret">
        <label for="enroll-token">Enrollment token (shown once, valid until {fmtTime(res.body.expiresAt)})</label>
        <input id="enroll-token" readonly class="mono" value={res.body.token} />
        <p>
          Run <code>palisade-agent enroll --url {new URL(c.req.url).origin} --token TOKEN --out agent</code>
        </p>
      </div>
    ) : (
      <ProblemBox problem={res.problem} />
    );
    return c.req.header('hx-request') === 'true' ? c.html(body) : c.html(<Layout title="Enrollment token" page={c.get('page')}>{body}</Layout>);
  });
}
