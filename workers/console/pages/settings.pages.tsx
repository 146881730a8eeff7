/** @jsxImportSource hono/jsx */
import type { Hono } from 'hono';
import type { FieldError } from '../../../schema/problem.ts';
import type { ConsoleEnv } from '../console-env.ts';
import { ErrorSummary, renderForm, select, text, textarea, toggle } from '../fields.tsx';
import { checked, lines, str, type Raw } from '../forms.ts';
import { fmtTime, Layout } from '../ui.tsx';

const PATH = '/settings/file-threat-protection';
const API = '/v1/settings/file-threat-protection';
const ACTIONS: Array<[string, string]> = [['recommended', 'Recommended'], ['disinfect', 'Disinfect'], ['blockAccess', 'Block access'], ['remove', 'Remove']];

const toRaw = (d: Record<string, any>): Raw => ({
  ...Object.fromEntries(Object.entries(d).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 'true' : '') : String(v)])),
  pathExclusions: (d.pathExclusions ?? []).join('\n'),
});
const toDoc = (r: Raw) => ({
  interceptorMode: str(r.interceptorMode),
  scanMode: str(r.scanMode),
  firstAction: str(r.firstAction),
  secondAction: str(r.secondAction),
  archiveScanning: str(r.archiveScanning),
  mailScanning: checked(r.mailScanning),
  skipObjectsLargerThanMb: Number(str(r.skipObjectsLargerThanMb)),
  skipObjectsScanLongerThanSeconds: Number(str(r.skipObjectsScanLongerThanSeconds)),
  scanOnlyNewAndModified: checked(r.scanOnlyNewAndModified),
  heuristicLevel: str(r.heuristicLevel),
  pathExclusions: lines(r.pathExclusions),
});

function SettingsForm(p: { raw: Raw; etag?: string; csrf: string; canManage: boolean; errors?: FieldError[]; problem?: { title: string; detail?: string } }) {
  const r = p.raw;
  return (
    <form id="settings-form" method="post" action={PATH} hx-post={PATH} hx-target="this" hx-swap="outerHTML" novalidate>
      {renderForm(p.errors ?? [], (ctx) => (
        <>
          <ErrorSummary ctx={ctx} problem={p.problem} />
          <input type="hidden" name="_csrf" value={p.csrf} />
          {p.etag && <input type="hidden" name="_etag" value={p.etag} />}
          <p class="hint">These settings apply to every active runtime policy with File threat protection enabled.</p>
          {select(ctx, { name: 'interceptorMode', label: 'Mode', pointer: '/interceptorMode', value: str(r.interceptorMode), options: [['audit', 'Audit'], ['enforce', 'Enforce']] })}
          {select(ctx, { name: 'scanMode', label: 'Scan on', pointer: '/scanMode', hint: 'Not applied: node agents scan files after they are written (and periodically), never on open, whatever this says.', value: str(r.scanMode), options: [['smart', 'Smart'], ['openAndModify', 'Open and modify'], ['open', 'Open']] })}
          {select(ctx, { name: 'firstAction', label: 'First action on a threat', pointer: '/firstAction', value: str(r.firstAction), options: ACTIONS })}
          {select(ctx, { name: 'secondAction', label: 'Second action', pointer: '/secondAction', value: str(r.secondAction), options: ACTIONS })}
          {select(ctx, { name: 'archiveScanning', label: 'Archives', pointer: '/archiveScanning', value: str(r.archiveScanning), options: [['off', 'Do not scan'], ['selfExtractingOnly', 'Self-extracting only'], ['all', 'All']] })}
          {toggle(ctx, { name: 'mailScanning', label: 'Scan mail files', pointer: '/mailScanning', on: checked(r.mailScanning) })}
          {text(ctx, { name: 'skipObjectsLargerThanMb', label: 'Skip objects larger than (MB, 0 = no limit)', pointer: '/skipObjectsLargerThanMb', value: str(r.skipObjectsLargerThanMb), type: 'number' })}
          {text(ctx, { name: 'skipObjectsScanLongerThanSeconds', label: 'Stop scanning an object after (seconds, 0 = unlimited)', pointer: '/skipObjectsScanLongerThanSeconds', value: str(r.skipObjectsScanLongerThanSeconds), type: 'number' })}
          {toggle(ctx, { name: 'scanOnlyNewAndModified', label: 'Scan only new and modified files', pointer: '/scanOnlyNewAndModified', on: checked(r.scanOnlyNewAndModified) })}
          {select(ctx, { name: 'heuristicLevel', label: 'Heuristic analysis', pointer: '/heuristicLevel', hint: 'Not applied: detection is by signatures only.', value: str(r.heuristicLevel), options: [['off', 'Off'], ['light', 'Light'], ['medium', 'Medium'], ['deep', 'Deep'], ['recommended', 'Recommended']] })}
          {textarea(ctx, { name: 'pathExclusions', label: 'Excluded paths, one a line', pointer: '/pathExclusions', value: str(r.pathExclusions) })}
          {p.canManage && (
            <div class="actions">
              <button type="submit" class="primary">
                Save
              </button>
            </div>
          )}
        </>
      ))}
    </form>
  );
}

export function registerSettingsPages(ui: Hono<ConsoleEnv>): void {
  ui.get(PATH, async (c) => {
    const res = await c.get('api').get(API);
    const page = c.get('page');
    return c.html(
      <Layout title="File threat protection settings" page={page}>
        <p>
          Last saved {fmtTime(res.body?.updatedAt)} {res.body?.updatedBy ? `by ${res.body.updatedBy}` : '(defaults)'}
        </p>
        <SettingsForm raw={toRaw(res.body ?? {})} etag={res.etag} csrf={page.csrf} canManage={page.rights.has('fileThreatProtection.manage')} problem={res.problem} />
      </Layout>,
      res.ok ? 200 : (res.status as 403),
    );
  });

  ui.post(PATH, async (c) => {
    const form = await c.req.parseBody();
    const raw = Object.fromEntries(Object.entries(form).filter(([, v]) => typeof v === 'string')) as Raw;
    const etag = typeof form._etag === 'string' ? form._etag : undefined;
    const res = await c.get('api').call('PUT', API, toDoc(raw), etag ? { 'if-match': etag } : {});
    const page = c.get('page');
    const canManage = page.rights.has('fileThreatProtection.manage');
    const view = res.ok ? (
      <SettingsForm raw={toRaw(res.body)} etag={res.etag} csrf={page.csrf} canManage={canManage} problem={{ title: 'Saved', detail: `at ${fmtTime(res.body.updatedAt)}` }} />
    ) : (
      <SettingsForm raw={raw} etag={etag} csrf={page.csrf} canManage={canManage} errors={res.problem?.errors} problem={res.problem} />
    );
    const status = res.ok ? 200 : res.status === 422 || res.status === 412 ? res.status : 200;
    return c.req.header('hx-request') === 'true' ? c.html(view, status) : c.html(<Layout title="File threat protection settings" page={page}>{view}</Layout>, status);
  });
}
