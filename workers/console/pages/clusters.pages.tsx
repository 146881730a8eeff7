/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../console-env.ts';
import { Csrf, fmtTime, Layout, ProblemBox, Table } from '../ui.tsx';

const list = (xs: string[] | undefined) => (xs && xs.length > 0 ? xs.join(', ') : 'none');

/** What the agents of a cluster reported: bundle revision, last poll and download, errors, and what each instance enforces. */
function AgentStatusView(props: { status: Record<string, any>; lastPoll: string | undefined }) {
  const s = props.status;
  const enforcement = (s.enforcement ?? { sections: [], detectOnly: [], instances: [] }) as { sections: string[]; detectOnly: string[]; instances: Array<{ component: string; instance: string; sections: string[]; detectOnly: string[]; reportedAt: string; live: boolean }> };
  return (
    <section aria-labelledby="status-h">
      <h2 id="status-h">Status</h2>
      {s.reportedAt ? (
        <dl class="facts">
          <dt>Bundle revision</dt>
          <dd>{s.activeRevision ?? 'none active'}{s.activeDigest ? <> (<code>{s.activeDigest}</code>)</> : null}</dd>
          <dt>Last poll</dt>
          <dd>{fmtTime(props.lastPoll)}</dd>
          <dt>Last report</dt>
          <dd>{fmtTime(s.reportedAt)}</dd>
          <dt>Last bundle download</dt>
          <dd>{fmtTime(s.lastDownloadAt)}</dd>
          <dt>Last activation</dt>
          <dd>{fmtTime(s.lastActivationAt)}</dd>
          <dt>Agent version</dt>
          <dd>{s.agentVersion ?? '—'}</dd>
          <dt>Last error</dt>
          <dd>{s.lastError ? `${s.lastError.code}: ${s.lastError.message} (${fmtTime(s.lastError.at)})` : 'none'}</dd>
          {Object.entries((s.counters ?? {}) as Record<string, number>).map(([k, v]) => (
            <>
              <dt>{k}</dt>
              <dd>{v}</dd>
            </>
          ))}
        </dl>
      ) : (
        <p>No agent has reported yet.</p>
      )}
      <h3>Sections its live agents enforce</h3>
      <p>
        Enforced: {list(enforcement.sections)}. Detected only (reported, not blocked): {list(enforcement.detectOnly)}.
      </p>
      {enforcement.instances.length > 0 && (
        <Table
          caption="Agent instances"
          head={['Instance', 'Component', 'Enforces', 'Detects only', 'Last report', 'Live']}
          rows={enforcement.instances.map((i) => (
            <tr>
              <th scope="row">{i.instance}</th>
              <td>{i.component}</td>
              <td>{list(i.sections)}</td>
              <td>{list(i.detectOnly)}</td>
              <td>{fmtTime(i.reportedAt)}</td>
              <td>{i.live ? 'yes' : 'no (silent over 10 minutes; not counted)'}</td>
            </tr>
          ))}
        />
      )}
    </section>
  );
}

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
    // Agents authenticate every poll with their credential: its last use is the last poll.
    const lastPoll = (credentials.ok ? (credentials.body.items as Array<{ lastUsedAt: string | null }>) : []).map((k) => k.lastUsedAt).filter((t): t is string => !!t).sort().at(-1);
    const canManage = c.get('page').rights.has('clusters.manage');
    return c.html(
      <Layout title={`Agent of cluster ${cluster.body.name}`} page={c.get('page')}>
        <AgentStatusView status={status.ok ? (status.body as Record<string, any>) : {}} lastPoll={lastPoll} />
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
