/** @jsxImportSource hono/jsx */
import type { Context, Hono } from 'hono';
import type { FieldError } from '../../../schema/problem.ts';
import { UUID_PATTERN } from '../../objects/filters.ts';
import { redirect } from '../console.routes.tsx';
import type { ConsoleEnv } from '../console-env.ts';
import { ErrorSummary, renderForm } from '../fields.tsx';
import { applyRowAction, unflatten } from '../forms.ts';
import { Csrf, Layout, ProblemBox, Table } from '../ui.tsx';
import { registerApiKeyPages } from './api-keys.pages.tsx';
import { registerClusterPages } from './clusters.pages.tsx';
import { RESOURCE_PAGES } from './kinds/index.ts';
import type { Item, ResourcePage } from './resource-kind.ts';
import { registerSettingsPages } from './settings.pages.tsx';
import { registerWebhookPages } from './webhooks.pages.tsx';

type C = Context<ConsoleEnv>;

interface FormState {
  kind: ResourcePage;
  action: string;
  etag?: string;
  raw: ReturnType<typeof unflatten>;
  errors?: FieldError[];
  problem?: { title: string; detail?: string };
  refs: Record<string, Item[] | undefined>;
  csrf: string;
}

function ResourceForm(s: FormState) {
  const { kind } = s;
  return (
    <form id="resource-form" method="post" action={s.action} hx-post={s.action} hx-target="this" hx-swap="outerHTML" novalidate>
      {renderForm(s.errors ?? [], (ctx) => (
        <>
          <ErrorSummary ctx={ctx} problem={s.problem} />
          <input type="hidden" name="_csrf" value={s.csrf} />
          {s.etag && <input type="hidden" name="_etag" value={s.etag} />}
          {kind.form.render(ctx, s.raw, s.refs, s.action)}
          <div class="actions">
            <button type="submit" name="_action" value="save" class="primary">
              Save
            </button>
            <a href={kind.path}>Cancel</a>
          </div>
        </>
      ))}
    </form>
  );
}

function registerKind(ui: Hono<ConsoleEnv>, kind: ResourcePage): void {
  const can = (c: C, right: 'view' | 'manage') => c.get('page').rights.has(kind.rights[right]);
  const page = (c: C, title: string, body: unknown, status = 200) =>
    c.req.header('hx-request') === 'true' ? c.html(body as string, status as 200) : c.html(<Layout title={title} page={c.get('page')}>{body as never}</Layout>, status as 200);
  const refsOf = (c: C) => kind.form?.refs?.(c.get('api'), c.get('page').rights) ?? Promise.resolve({});

  ui.get(kind.path, async (c) => {
    if (!can(c, 'view')) return page(c, kind.title, <p>Your roles do not grant {kind.rights.view}.</p>, 403);
    const name = c.req.query('name');
    const res = await c.get('api').get<{ items: Item[] }>(`${kind.api}?limit=200${name ? `&name=${encodeURIComponent(name)}` : ''}`);
    const manage = can(c, 'manage') && !kind.readOnly;
    const rows = (res.ok ? res.body.items : []).map((item) => (
      <tr>
        {kind.columns.map(([, cell], i) => (i === 0 ? <th scope="row">{cell(item)}</th> : <td>{cell(item)}</td>))}
        <td class="row-links">
          {(kind.rowLinks?.(item, c.get('page').rights) ?? []).map(([href, label]) => (
            <a href={href}>{label}</a>
          ))}
          {manage && !item.builtin && !item.global && <a href={`${kind.path}/${item.id}`} aria-label={`Edit ${item.name ?? item.id}`}>Edit</a>}
          {manage && !item.builtin && !item.global && <a href={`${kind.path}/${item.id}/delete`} aria-label={`Delete ${item.name ?? item.id}`}>Delete…</a>}
        </td>
      </tr>
    ));
    return page(
      c,
      kind.title,
      <>
        <ProblemBox problem={res.problem} />
        {manage && (
          <p>
            <a class="button primary" href={`${kind.path}/new`}>
              Add {kind.noun}
            </a>
          </p>
        )}
        <Table caption={`${rows.length} ${kind.title.toLowerCase()}`} head={[...kind.columns.map(([h]) => h), 'Actions']} rows={rows} />
      </>,
    );
  });

  ui.get(`${kind.path}/new`, async (c) => {
    if (!can(c, 'manage') || kind.readOnly) return page(c, `Add ${kind.noun}`, <p>Your roles do not grant {kind.rights.manage}.</p>, 403);
    return page(c, `Add ${kind.noun}`, <ResourceForm kind={kind} action={`${kind.path}/new`} raw={kind.form.fromDoc(undefined)} refs={await refsOf(c)} csrf={c.get('page').csrf} />);
  });

  const submit = (existing: boolean) => async (c: C) => {
    const id = c.req.param('id') ?? '';
    const action = existing ? `${kind.path}/${id}` : `${kind.path}/new`;
    const title = existing ? `Edit ${kind.noun}` : `Add ${kind.noun}`;
    const form = await c.req.formData();
    const get = (k: string) => (typeof form.get(k) === 'string' ? (form.get(k) as string) : undefined);
    const verb = get('_action') ?? 'save';
    const etag = get('_etag');
    const refs = await refsOf(c);
    const csrf = c.get('page').csrf;
    const raw = unflatten([...form.entries()].filter((e): e is [string, string] => typeof e[1] === 'string'), kind.form.isList ?? (() => false));
    if (verb !== 'save') {
      applyRowAction(raw, verb, kind.form.blank ?? (() => ''));
      return page(c, title, <ResourceForm kind={kind} action={action} etag={etag} raw={raw} refs={refs} csrf={csrf} />);
    }
    const doc = kind.form.toDoc(raw);
    const api = c.get('api');
    const res = existing ? await api.call('PUT', `${kind.api}/${id}`, doc, etag ? { 'if-match': etag } : {}) : await api.call('POST', kind.api, doc);
    if (res.ok && kind.createdMember && !existing) {
      const created = res.body[kind.createdMember] as Item;
      return page(
        c,
        `${kind.noun[0]!.toUpperCase()}${kind.noun.slice(1)} created`,
        <section class="secret" role="status">
          <p>
            <strong>{created.name}</strong> was created. Its secret is shown only now; copy it:
          </p>
          <p>
            <label for="secret">Secret</label>
            <input id="secret" readonly value={res.body.secret} class="mono" />
          </p>
          <a href={kind.path}>Done</a>
        </section>,
      );
    }
    if (res.ok) return redirect(c, kind.path);
    const status = res.status === 422 || res.status === 412 || res.status === 409 ? res.status : 200;
    return page(c, title, <ResourceForm kind={kind} action={action} etag={etag} raw={raw} refs={refs} csrf={csrf} errors={res.problem?.errors ?? []} problem={res.problem ?? { title: `Error ${res.status}` }} />, status);
  };
  if (!kind.readOnly) ui.post(`${kind.path}/new`, submit(false));

  ui.get(`${kind.path}/:id`, async (c) => {
    const id = c.req.param('id');
    const res = UUID_PATTERN.test(id) ? await c.get('api').get<Item>(`${kind.api}/${id}`) : undefined;
    if (!res?.ok) return page(c, kind.title, <ProblemBox problem={res?.problem ?? { title: 'Not Found', detail: `no ${kind.noun} ${id}` }} />, 404);
    if (!can(c, 'manage') || kind.readOnly || res.body.builtin || res.body.global)
      return page(c, `${kind.noun}: ${res.body.name ?? id}`, <pre class="doc">{JSON.stringify(res.body, null, 2)}</pre>);
    return page(c, `Edit ${kind.noun} ${res.body.name ?? ''}`, <ResourceForm kind={kind} action={`${kind.path}/${id}`} etag={res.etag} raw={kind.form.fromDoc(res.body)} refs={await refsOf(c)} csrf={c.get('page').csrf} />);
  });
  if (!kind.readOnly) ui.post(`${kind.path}/:id`, submit(true));

  ui.get(`${kind.path}/:id/delete`, async (c) => {
    const res = await c.get('api').get<Item>(`${kind.api}/${c.req.param('id')}`);
    if (!res.ok) return page(c, `Delete ${kind.noun}`, <ProblemBox problem={res.problem} />, 404);
    return page(
      c,
      `Delete ${kind.noun} ${res.body.name ?? res.body.id}?`,
      <form method="post" action={`${kind.path}/${res.body.id}/delete`} class="confirm">
        <Csrf page={c.get('page')} />
        <input type="hidden" name="_etag" value={res.etag} />
        <p>This cannot be undone.</p>
        <button type="submit" class="danger">
          Delete {kind.noun}
        </button>{' '}
        <a href={kind.path}>Keep it</a>
      </form>,
    );
  });
  ui.post(`${kind.path}/:id/delete`, async (c) => {
    const form = await c.req.parseBody();
    const res = await c.get('api').call('DELETE', `${kind.api}/${c.req.param('id')}`, undefined, typeof form._etag === 'string' ? { 'if-match': form._etag } : {});
    if (res.status === 204) return redirect(c, kind.path);
    return page(c, `Delete ${kind.noun}`, <><ProblemBox problem={res.problem} /><a href={kind.path}>Back</a></>, res.status);
  });
}

export function registerResourcePages(ui: Hono<ConsoleEnv>): void {
  registerClusterPages(ui);
  registerApiKeyPages(ui);
  registerWebhookPages(ui);
  registerSettingsPages(ui);
  for (const kind of RESOURCE_PAGES) registerKind(ui, kind);
}
