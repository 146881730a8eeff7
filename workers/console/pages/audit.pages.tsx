/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { ConsoleEnv } from '../console-env.ts';
import { fmtTime, Layout, ProblemBox, Table } from '../ui.tsx';
import { HorizontalBars, StackedBars, type Series } from './charts.tsx';

const FILTERS = ['verdict', 'kind', 'severity', 'policyId', 'clusterId', 'namespace', 'from', 'to'] as const;
const VERDICTS = ['blocked', 'alerted', 'allowed'];

/** Audit events with the API's filters, and its summary drawn as charts. */
export function registerAuditPages(ui: Hono<ConsoleEnv>): void {
  ui.get('/audit', async (c) => {
    const api = c.get('api');
    const q = c.req.query();
    const filters = new URLSearchParams();
    for (const k of FILTERS) if (q[k]) filters.set(k, k === 'from' || k === 'to' ? (/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(q[k]!) ? `${q[k]}:00Z` : q[k]!) : q[k]!);
    const bucket = q.bucket === 'day' ? 'day' : 'hour';
    const summaryFilters = new URLSearchParams(filters);
    const [events, byVerdict, byPolicy, policies, clusters] = await Promise.all([
      api.get(`/v1/audit/events?limit=50&${filters}${q.cursor ? `&cursor=${encodeURIComponent(q.cursor)}` : ''}`),
      api.get(`/v1/audit/summary?groupBy=verdict&bucket=${bucket}&top=10&${summaryFilters}`),
      api.get(`/v1/audit/summary?groupBy=policy&bucket=${bucket}&limit=10&top=0&${summaryFilters}`),
      api.all<{ id: string; name: string }>('/v1/runtime-policies'),
      api.all<{ id: string; name: string }>('/v1/clusters'),
    ]);
    const policyName = (id: string | null | undefined) => (id ? (policies.find((p) => p.id === id)?.name ?? id) : '(no policy)');
    const problem = events.problem ?? byVerdict.problem ?? byPolicy.problem;
    const buckets: string[] = [];
    if (byVerdict.ok) {
      const size = bucket === 'day' ? 86_400_000 : 3_600_000;
      for (let t = Date.parse(byVerdict.body.from); t < Date.parse(byVerdict.body.to); t += size) buckets.push(new Date(t).toISOString());
    }
    const series: Series[] = VERDICTS.map((v) => ({
      name: v,
      points: (byVerdict.ok ? byVerdict.body.groups : []).filter((g: any) => g.key.verdict === v).flatMap((g: any) => g.buckets),
    }));
    const label = (start: string) => (bucket === 'day' ? start.slice(5, 10) : start.slice(11, 16));
    const select = (name: string, label: string, options: Array<[string, string]>) => (
      <div class="field">
        <label for={`a-${name}`}>{label}</label>
        <select id={`a-${name}`} name={name}>
          <option value="">Any</option>
          {options.map(([v, l]) => (
            <option value={v} selected={q[name] === v}>{l}</option>
          ))}
        </select>
      </div>
    );
    return c.html(
      <Layout title="Audit" page={c.get('page')}>
        <form method="get" action="/audit" class="filters" role="search" aria-label="Filter audit events">
          {select('verdict', 'Verdict', VERDICTS.map((v) => [v, v]))}
          {select('kind', 'Kind', ['admission', 'process', 'network', 'fileThreat', 'agent'].map((v) => [v, v]))}
          {select('severity', 'Severity', ['low', 'medium', 'high', 'critical'].map((v) => [v, v]))}
          {select('policyId', 'Policy', policies.map((p) => [p.id, p.name]))}
          {select('clusterId', 'Cluster', clusters.map((p) => [p.id, p.name]))}
          <div class="field">
            <label for="a-namespace">Namespace</label>
            <input id="a-namespace" name="namespace" value={q.namespace ?? ''} />
          </div>
          <div class="field">
            <label for="a-from">From (UTC)</label>
            <input id="a-from" name="from" type="datetime-local" value={q.from ?? ''} />
          </div>
          <div class="field">
            <label for="a-to">To (UTC)</label>
            <input id="a-to" name="to" type="datetime-local" value={q.to ?? ''} />
          </div>
          <div class="field">
            <label for="a-bucket">Chart buckets</label>
            <select id="a-bucket" name="bucket">
              <option value="hour" selected={bucket === 'hour'}>Hours</option>
              <option value="day" selected={bucket === 'day'}>Days</option>
            </select>
          </div>
          <button type="submit">Apply</button>
        </form>
        <ProblemBox problem={problem} />
        <section aria-labelledby="charts-h" class="charts">
          <h2 id="charts-h">Summary</h2>
          <StackedBars id="chart-verdicts" title="Decisions over time by verdict" buckets={buckets} series={series} bucketLabel={label} />
          <HorizontalBars id="chart-policies" title="Top policies" rows={(byPolicy.ok ? byPolicy.body.groups : []).map((g: any) => ({ label: policyName(g.key.policy), count: g.total }))} />
          <HorizontalBars id="chart-workloads" title="Top workloads (blocked or alerted)" rows={(byVerdict.ok ? byVerdict.body.topWorkloads : []).map((w: any) => ({ label: w.workload, count: w.count }))} />
        </section>
        <section aria-labelledby="events-h">
          <h2 id="events-h">Events</h2>
          <Table
            caption="Audit events, newest first"
            head={['Time', 'Verdict', 'Kind', 'Severity', 'Policy', 'Workload', 'Checks']}
            rows={(events.ok ? events.body.items : []).map((e: any) => (
              <tr>
                <th scope="row">{fmtTime(e.time)}</th>
                <td>{e.verdict}</td>
                <td>{e.kind}</td>
                <td>{e.severity}</td>
                <td>{e.policy ? `${e.policy.name} (rev ${e.policy.revision})` : '—'}</td>
                <td>{e.workload ? `${e.workload.namespace}/${e.workload.kind}/${e.workload.name}` : '—'}</td>
                <td>{(e.checks ?? []).map((ch: any) => ch.id).join(', ')}</td>
              </tr>
            ))}
            empty="No events match."
          />
          {events.ok && events.body.nextCursor && <a href={`/audit?${new URLSearchParams({ ...q, cursor: events.body.nextCursor })}`}>Older events</a>}
        </section>
      </Layout>,
    );
  });
}
