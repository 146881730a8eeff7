/** @jsxImportSource hono/jsx */
import type { PolicyEnforcement } from '../../../schema/runtime-policies.ts';
import { fmtTime, ProblemBox, type PageContext } from '../ui.tsx';
import { NotEnforcedBadge } from './policy-enforcement.tsx';

export interface PolicyItem {
  id: string;
  name: string;
  mode: string;
  enabled: boolean;
  scopeIds: string[];
  revision: number;
  updatedAt: string;
  updatedBy: string;
  enforcement?: PolicyEnforcement;
}

type Named = Array<{ id: string; name: string }>;

export function PolicyRow(props: { item: PolicyItem; scopes: Named; canManage: boolean; problem?: { title: string; detail?: string } }) {
  const { item } = props;
  const scopeName = (id: string) => props.scopes.find((s) => s.id === id)?.name ?? id;
  return (
    <tr id={`policy-${item.id}`}>
      <th scope="row">
        <a href={`/policies/${item.id}`}>{item.name}</a>
        <NotEnforcedBadge enforcement={item.enforcement} />
      </th>
      <td>{item.mode === 'enforce' ? 'Enforce' : 'Audit'}</td>
      <td>{item.scopeIds.map(scopeName).join(', ')}</td>
      <td>
        {props.canManage ? (
          <form method="post" action={`/policies/${item.id}/toggle`} hx-post={`/policies/${item.id}/toggle`} hx-target="closest tr" hx-swap="outerHTML">
            <input type="hidden" name="enabled" value={item.enabled ? 'false' : 'true'} />
            <input type="hidden" name="_etag" value={`"${item.revision}"`} />
            <button type="submit" role="switch" aria-checked={item.enabled ? 'true' : 'false'} aria-label={`${item.name} enabled`} class={item.enabled ? 'switch on' : 'switch'}>
              {item.enabled ? 'Enabled' : 'Disabled'}
            </button>
          </form>
        ) : item.enabled ? (
          'Enabled'
        ) : (
          'Disabled'
        )}
        {props.problem && <ProblemBox id={`problem-${item.id}`} problem={props.problem} />}
      </td>
      <td>
        {fmtTime(item.updatedAt)} by {item.updatedBy} (revision {item.revision})
      </td>
    </tr>
  );
}

export function PolicyResults(props: { items: PolicyItem[]; scopes: Named; canManage: boolean; nextCursor?: string; query: Record<string, string>; problem?: { title: string; detail?: string } }) {
  const next = new URLSearchParams({ ...props.query, cursor: props.nextCursor ?? '' });
  next.delete('saved');
  return (
    <div id="policy-results" aria-live="polite">
      <ProblemBox problem={props.problem} />
      <div class="table-wrap" tabindex={0} role="region" aria-label="Runtime policies">
        <table>
          <caption>{props.items.length} runtime {props.items.length === 1 ? 'policy' : 'policies'}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Mode</th>
              <th scope="col">Scope</th>
              <th scope="col">Enabled</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {props.items.map((item) => (
              <PolicyRow item={item} scopes={props.scopes} canManage={props.canManage} />
            ))}
          </tbody>
        </table>
      </div>
      {props.nextCursor && <a href={`/policies?${next}`}>Next page</a>}
    </div>
  );
}

export function PolicyList(props: { items: PolicyItem[]; scopes: Named; canManage: boolean; page: PageContext; nextCursor?: string; query: Record<string, string>; problem?: { title: string; detail?: string } }) {
  const q = props.query;
  return (
    <>
      {props.canManage && (
        <p>
          <a class="button primary" href="/policies/new">
            Add policy
          </a>
        </p>
      )}
      <form method="get" action="/policies" class="filters" role="search" aria-label="Filter policies" hx-get="/policies" hx-target="#policy-results" hx-select="#policy-results" hx-swap="outerHTML" hx-push-url="true">
        <div class="field">
          <label for="filter-name">Name (* for any)</label>
          <input id="filter-name" name="name" value={q.name ?? ''} />
        </div>
        <div class="field">
          <label for="filter-mode">Mode</label>
          <select id="filter-mode" name="mode">
            {[['', 'Any'], ['audit', 'Audit'], ['enforce', 'Enforce']].map(([v, l]) => (
              <option value={v} selected={(q.mode ?? '') === v}>{l}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-enabled">Enabled</label>
          <select id="filter-enabled" name="enabled">
            {[['', 'Any'], ['true', 'Enabled'], ['false', 'Disabled']].map(([v, l]) => (
              <option value={v} selected={(q.enabled ?? '') === v}>{l}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="filter-scope">Scope</label>
          <select id="filter-scope" name="scopeId">
            <option value="">Any</option>
            {props.scopes.map((s) => (
              <option value={s.id} selected={q.scopeId === s.id}>{s.name}</option>
            ))}
          </select>
        </div>
        <button type="submit">Filter</button>
      </form>
      <PolicyResults {...props} />
    </>
  );
}
