/** @jsxImportSource hono/jsx */
import type { Context, Hono } from 'hono';
import { scopeCoversWorkloads, type ScopeResource } from '../../../schema/scopes.ts';
import { encodeCursor } from '../../http/pagination.ts';
import { UUID_PATTERN } from '../../objects/filters.ts';
import { changedPaths } from '../../policies/revisions.store.ts';
import type { ConsoleApi } from '../api.ts';
import { redirect } from '../console.routes.tsx';
import type { ConsoleEnv } from '../console-env.ts';
import { applyRowAction, showValue, unflatten, valueAt, type Raw } from '../forms.ts';
import { Layout, ProblemBox, fmtTime } from '../ui.tsx';
import { NotEnforcedNotice } from './policy-enforcement.tsx';
import { PolicyForm, type Conflict, type PolicyFormRefs } from './policy-form.tsx';
import { PolicyList, PolicyRow, type PolicyItem } from './policy-list.tsx';
import { blankPolicyRow, isPolicyListField, policyToRaw, rawToPolicy } from './policy-raw.ts';
import { placeRegistryErrors, type RegistryChoice } from './policy-registries.tsx';
import { keyFingerprint, type ValidatorChoice } from './policy-signatures.tsx';
import type { Right } from '../../../schema/rights.ts';
import { RevisionHistory } from './policy-history.tsx';

type C = Context<ConsoleEnv>;

/** The lists the form offers, each only when the principal may view that kind (undefined otherwise). */
async function loadRefs(api: ConsoleApi, rights: ReadonlySet<Right>): Promise<PolicyFormRefs> {
  const when = <T,>(right: Right, path: string) => (rights.has(right) ? api.all<T>(path) : Promise.resolve(undefined));
  const [scopes, profiles, validators, registries] = await Promise.all([
    when<{ id: string; name: string; global: boolean; resources: ScopeResource[] }>('scopes.view', '/v1/scopes'),
    when<{ id: string; name: string }>('runtimeProfiles.view', '/v1/runtime-profiles'),
    when<ValidatorChoice & { verification: { publicKey?: string } }>('signatureValidators.view', '/v1/signature-validators'),
    when<RegistryChoice>('registries.view', '/v1/registries'),
  ]);
  const withFingerprints = validators && (await Promise.all(validators.map(async (v) => ({ ...v, fingerprint: v.verification.publicKey ? await keyFingerprint(v.verification.publicKey) : undefined }))));
  // The API hides the global scope from whoever lacks scopes.viewGlobal; registry-only scopes cannot hold a policy.
  return { scopes: scopes?.filter(scopeCoversWorkloads), profiles, validators: withFingerprints, registries };
}

async function readRaw(c: C): Promise<{ raw: Raw; action: string; etag?: string; overwrite?: string }> {
  const form = await c.req.formData();
  const entries = [...form.entries()].filter((e): e is [string, string] => typeof e[1] === 'string');
  const raw = unflatten(entries, isPolicyListField);
  const get = (k: string) => (typeof form.get(k) === 'string' ? (form.get(k) as string) : undefined);
  return { raw, action: get('_action') ?? 'save', etag: get('_etag'), overwrite: get('_overwrite') };
}

/** The changes saved since `etag` (by whom, when), with their value and the one this user tried to save. */
async function conflictOf(api: ConsoleApi, id: string, etag: string, mine: unknown): Promise<Conflict | undefined> {
  const current = await api.get(`/v1/runtime-policies/${id}`);
  if (!current.ok) return undefined;
  const since = Number(/^"(\d+)"$/.exec(etag)?.[1] ?? 0);
  const revisions = await api.get<{ items: Array<{ revision: number; changedBy: string; changedAt: string; changes: string[] }> }>(
    `/v1/runtime-policies/${id}/revisions?limit=200${since > 0 ? `&cursor=${encodeCursor(String(since))}` : ''}`,
  );
  const items = revisions.ok ? revisions.body.items : [];
  const latest = items.at(-1);
  const pointers = [...new Set(items.flatMap((r) => r.changes))];
  const { id: _i, revision: _r, createdAt: _ca, updatedAt: _ua, createdBy: _cb, updatedBy: _ub, ...theirs } = current.body;
  const differing = pointers.length > 0 ? pointers : changedPaths(theirs, mine);
  return {
    by: latest?.changedBy ?? current.body.updatedBy,
    at: fmtTime(latest?.changedAt ?? current.body.updatedAt),
    revision: current.body.revision,
    currentEtag: current.etag ?? '',
    changes: differing.map((p) => ({ pointer: p, theirs: showValue(valueAt(theirs, p)), yours: showValue(valueAt(mine, p)) })),
  };
}

export function registerPolicyPages(ui: Hono<ConsoleEnv>): void {
  const canManage = (c: C) => c.get('page').rights.has('runtimePolicies.manage');
  const formPage = (c: C, title: string, form: unknown, status: 200 | 412 | 422 = 200) =>
    c.req.header('hx-request') === 'true' ? c.html(form as string, status) : c.html(<Layout title={title} page={c.get('page')}>{form as never}</Layout>, status);

  ui.get('/policies', async (c) => {
    const api = c.get('api');
    const q = c.req.query();
    const params = new URLSearchParams();
    for (const k of ['name', 'mode', 'enabled', 'scopeId', 'cursor'] as const) if (q[k]) params.set(k, q[k]);
    params.set('limit', '50');
    const [list, scopes] = await Promise.all([api.get<{ items: PolicyItem[]; nextCursor?: string }>(`/v1/runtime-policies?${params}`), api.all<{ id: string; name: string }>('/v1/scopes')]);
    const view = <PolicyList items={list.ok ? list.body.items : []} problem={list.problem} nextCursor={list.ok ? list.body.nextCursor : undefined} query={q} scopes={scopes} page={c.get('page')} canManage={canManage(c)} />;
    if (c.req.header('hx-request') === 'true' && c.req.header('hx-target') === 'policy-results') return c.html(view);
    return c.html(<Layout title="Runtime policies" page={c.get('page')} flash={q.saved ? 'Policy saved.' : q.deleted ? 'Policy deleted.' : undefined}>{view}</Layout>);
  });

  ui.get('/policies/new', async (c) => {
    if (!canManage(c)) return c.html(<Layout title="Add policy" page={c.get('page')}><p>You may view runtime policies but not add them.</p></Layout>, 403);
    const refs = await loadRefs(c.get('api'), c.get('page').rights);
    return formPage(c, 'Add policy', <PolicyForm raw={policyToRaw({})} refs={refs} action="/policies/new" page={c.get('page')} />);
  });

  /** Save, or a form-only action (add or remove a row, switch how pods are selected) that re-renders the form. */
  const submit = (existing: boolean) => async (c: C) => {
    const api = c.get('api');
    const id = c.req.param('id') ?? '';
    const action = existing ? `/policies/${id}` : '/policies/new';
    const title = existing ? 'Edit policy' : 'Add policy';
    const { raw, action: verb, etag, overwrite } = await readRaw(c);
    const refs = await loadRefs(api, c.get('page').rights);
    if (verb !== 'save' && verb !== 'overwrite') {
      applyRowAction(raw, verb, blankPolicyRow);
      return formPage(c, title, <PolicyForm raw={raw} refs={refs} action={action} etag={etag} page={c.get('page')} />);
    }
    const doc = rawToPolicy(raw);
    const ifMatch = verb === 'overwrite' && overwrite ? overwrite : etag;
    const res = existing ? await api.call('PUT', `/v1/runtime-policies/${id}`, doc, ifMatch ? { 'if-match': ifMatch } : {}) : await api.call('POST', '/v1/runtime-policies', doc);
    if (res.ok) return redirect(c, `/policies?saved=${res.body.id}`);
    if (res.status === 412 && existing && etag) {
      const conflict = await conflictOf(api, id, ifMatch ?? etag, doc);
      return formPage(c, title, <PolicyForm raw={raw} refs={refs} action={action} etag={etag} page={c.get('page')} conflict={conflict} problem={res.problem} />, 412);
    }
    const status = res.status === 422 ? 422 : 200;
    return formPage(c, title, <PolicyForm raw={raw} refs={refs} action={action} etag={etag} page={c.get('page')} errors={placeRegistryErrors(res.problem?.errors ?? [], raw, refs.registries)} problem={res.problem ?? { title: `Error ${res.status}` }} />, status);
  };
  ui.post('/policies/new', submit(false));

  ui.get('/policies/:id', async (c) => {
    const api = c.get('api');
    const id = c.req.param('id');
    const res = UUID_PATTERN.test(id) ? await api.get(`/v1/runtime-policies/${id}`) : undefined;
    if (!res?.ok) return c.html(<Layout title="Policy not found" page={c.get('page')}><ProblemBox problem={res?.problem ?? { title: 'Not Found', detail: `no policy ${id}` }} /></Layout>, 404);
    const refs = await loadRefs(api, c.get('page').rights);
    const raw = policyToRaw(res.body);
    const links = (
      <p class="links">
        <a href={`/policies/${id}/history`}>Revision history</a>
        {canManage(c) && <a href={`/policies/${id}/delete`}>Delete…</a>}
      </p>
    );
    const notice = <NotEnforcedNotice enforcement={res.body.enforcement} />;
    if (!canManage(c)) return c.html(<Layout title={res.body.name} page={c.get('page')}>{links}{notice}<pre class="doc">{JSON.stringify(res.body, null, 2)}</pre></Layout>);
    return c.html(
      <Layout title={`Edit policy ${res.body.name}`} page={c.get('page')}>
        {links}
        {notice}
        <PolicyForm raw={raw} refs={refs} action={`/policies/${id}`} etag={res.etag} page={c.get('page')} />
      </Layout>,
    );
  });
  ui.post('/policies/:id', submit(true));

  /** The list's Enabled switch: a merge patch guarded by the row's ETag; answers the row again. */
  ui.post('/policies/:id/toggle', async (c) => {
    const api = c.get('api');
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const res = await api.call('PATCH', `/v1/runtime-policies/${id}`, { enabled: form.enabled === 'true' }, typeof form._etag === 'string' ? { 'if-match': form._etag } : {});
    const fresh = await api.get(`/v1/runtime-policies/${id}`);
    const scopes = await api.all<{ id: string; name: string }>('/v1/scopes');
    if (!fresh.ok) return c.html(<tr><td colspan={6}><ProblemBox problem={fresh.problem} /></td></tr>, 200);
    return c.html(<PolicyRow item={fresh.body} scopes={scopes} canManage={canManage(c)} problem={res.ok ? undefined : res.problem} />);
  });

  ui.get('/policies/:id/history', async (c) => {
    const api = c.get('api');
    const id = c.req.param('id');
    const [policy, revisions] = await Promise.all([api.get(`/v1/runtime-policies/${id}`), api.get(`/v1/runtime-policies/${id}/revisions?limit=200`)]);
    if (!revisions.ok) return c.html(<Layout title="Revision history" page={c.get('page')}><ProblemBox problem={revisions.problem} /></Layout>, revisions.status as 404);
    return c.html(
      <Layout title={`Revision history of ${policy.ok ? policy.body.name : 'a deleted policy'}`} page={c.get('page')}>
        <RevisionHistory items={revisions.body.items} />
      </Layout>,
    );
  });

  ui.get('/policies/:id/delete', async (c) => {
    const res = await c.get('api').get(`/v1/runtime-policies/${c.req.param('id')}`);
    if (!res.ok) return c.html(<Layout title="Delete policy" page={c.get('page')}><ProblemBox problem={res.problem} /></Layout>, 404);
    return c.html(
      <Layout title={`Delete policy ${res.body.name}?`} page={c.get('page')}>
        <form method="post" action={`/policies/${res.body.id}/delete`} class="confirm">
          <input type="hidden" name="_csrf" value={c.get('page').csrf} />
          <input type="hidden" name="_etag" value={res.etag} />
          <p>Agents stop enforcing it at their next bundle refresh. Its revision history is kept.</p>
          <button type="submit" class="danger">Delete policy</button> <a href={`/policies/${res.body.id}`}>Keep it</a>
        </form>
      </Layout>,
    );
  });

  ui.post('/policies/:id/delete', async (c) => {
    const form = await c.req.parseBody();
    const res = await c.get('api').call('DELETE', `/v1/runtime-policies/${c.req.param('id')}`, undefined, typeof form._etag === 'string' ? { 'if-match': form._etag } : {});
    if (res.status === 204) return redirect(c, '/policies?deleted=1');
    return c.html(<Layout title="Delete policy" page={c.get('page')}><ProblemBox problem={res.problem} /><p><a href={`/policies/${c.req.param('id')}`}>Back to the policy</a></p></Layout>, res.status as 412);
  });
}
