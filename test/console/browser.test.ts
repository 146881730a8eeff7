import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleAssets } from '../../workers/node.ts';
import { auditEvent, sendEvents } from '../audit/support.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { axe, hasChromium, launch, step, type Browser } from './browser.ts';

/**
 * The console in a real browser (Debian's chromium through playwright-core) against the Node server: the seed's
 * walk through the policy form, a validation error at its field, a conflict, history, audit charts, and an axe-core
 * check of every page.
 */
describe.skipIf(!hasChromium)('console in chromium', () => {
  let db: Awaited<ReturnType<typeof testPglite>>;
  let server: ServerType;
  let browser: Browser;
  let base: string;
  let h: ReturnType<typeof harness>;
  let acme: Awaited<ReturnType<ReturnType<typeof harness>['tenant']>>;

  beforeAll(async () => {
    db = await testPglite();
    h = harness(db, { console: { assets: consoleAssets() } });
    acme = await h.tenant('acme');
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    base = `http://localhost:${(server.address() as AddressInfo).port}`;
    browser = await launch();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => server?.close(r));
    await db?.close();
  });

  const a11y = async (path: string) => {
    const { page } = browser;
    const violations = await axe(page);
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious, `${path}: ${JSON.stringify(serious, null, 1)}`).toEqual([]);
  };

  it('walks the seed: sign in, scope, profile, policy with sections, error at its field, toggle, conflict, history, audit', async () => {
    const { page } = browser;
    await step(page, 'sign-in', async () => {
      await page.goto(`${base}/policies`);
      await expect.poll(() => page.url()).toContain('/login');
      await a11y('/login');
      await page.getByLabel('API key').fill(acme.key);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/policies$/);
      const cookies = await browser.context.cookies();
      expect(cookies.find((c) => c.name === '__Host-palisade-session')).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict' });
      expect(await page.evaluate(() => document.cookie)).toBe('');
    });

    await step(page, 'scope', async () => {
      await page.goto(`${base}/scopes/new`);
      await page.getByLabel('Name', { exact: true }).fill('prod');
      await page.getByLabel('Cluster (masks with *)').fill('prod-*');
      await page.getByRole('button', { name: 'Add resource' }).click();
      await expect.poll(() => page.locator('[name="resources.1.type"]').count()).toBe(1);
      await page.locator('[name="resources.1.type"]').selectOption('namespace');
      await page.locator('[name="resources.1.cluster"]').fill('prod-eu');
      await page.locator('[name="resources.1.namespace"]').fill('payments');
      await a11y('/scopes/new');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/scopes$/);
      await expect.poll(() => page.getByRole('rowheader', { name: 'prod' }).count()).toBe(1);
    });

    await step(page, 'profile', async () => {
      await page.goto(`${base}/runtime-profiles/new`);
      await page.getByLabel('Name', { exact: true }).fill('web');
      await page.getByLabel('Restrict executables').check();
      await page.getByLabel('Mode').selectOption('allowListedOnly');
      await page.getByLabel('Executables, one a line').fill('/usr/sbin/nginx');
      await a11y('/runtime-profiles/new');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/runtime-profiles$/);
    });

    await step(page, 'registry', async () => {
      await page.goto(`${base}/registries/new`);
      await page.getByLabel('Name', { exact: true }).fill('ghcr');
      await page.getByLabel('Registry (host[:port][/path])').fill('ghcr.io/acme');
      await a11y('/registries/new');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/registries$/);
    });

    await step(page, 'validator-method-switch', async () => {
      await page.goto(`${base}/signature-validators/new`);
      await page.getByLabel('Name', { exact: true }).fill('gh-actions');
      expect(await page.getByLabel('Public key (PEM)').count()).toBe(1);
      // htmx re-renders the form on change: the key field goes, identity rows come.
      await page.getByLabel('Verification').selectOption('keyless');
      await expect.poll(() => page.getByLabel('Issuer', { exact: true }).count()).toBe(1);
      expect(await page.getByLabel('Public key (PEM)').count()).toBe(0);
      expect(await page.getByLabel('Name', { exact: true }).inputValue()).toBe('gh-actions');
      await page.getByLabel('Issuer', { exact: true }).fill('https://token.actions.githubusercontent.com');
      await page.getByLabel('or subject pattern').fill('^https://github\\.com/acme/.+$');
      await a11y('/signature-validators/new keyless');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/signature-validators$/);
    });

    await step(page, 'policy-form', async () => {
      await page.goto(`${base}/policies`);
      await a11y('/policies');
      await page.getByRole('link', { name: 'Add policy' }).click();
      await page.getByLabel('Name', { exact: true }).fill('prod-baseline');
      await page.getByLabel('Description (optional)').fill('Baseline for production');
      await page.getByLabel('Scope').selectOption({ label: 'prod' });
      await page.getByLabel('Enforce: block what does not comply').check();
      await page.getByLabel('Capabilities block: enabled').check();
      await page.getByLabel('Capabilities to block (ALL blocks every one)').selectOption(['ALL']);
      await page.getByLabel('Container runtime profiles: enabled').check();
      await page.getByRole('button', { name: 'Add pod mapping' }).click();
      await page.getByLabel('Label key').fill('app');
      await page.getByLabel('Label value').fill('web');
      await page.getByLabel('Container runtime profiles', { exact: true }).selectOption({ label: 'web' });
      await page.getByLabel('Limit container privileges: enabled').check();
      await page.getByLabel('Preset (Pod Security Standards)').selectOption('baseline');
      await page.getByLabel('Image content protection: enabled').check();
      await page.getByRole('button', { name: 'Add signature verification rule' }).click();
      await page.getByLabel('Image registry URL template').fill('ghcr.io/acme/**');
      await page.getByLabel('Signature validator').selectOption({ label: 'gh-actions (keyless)' });
      // Choosing the validator shows what it accepts, by its method (keyless: the certificate identities).
      await expect.poll(() => page.locator('.validator-summary').textContent()).toContain('https://token.actions.githubusercontent.com');
      await page.getByLabel('Registries allowed: enabled').check();
      await page.getByLabel('ghcr (ghcr.io/acme)').check();
      await page.getByLabel('Other registry prefixes, one a line').fill('quay.io/acme');
      await page.getByLabel('Volumes blocked: enabled').check();
      await page.getByLabel('Host paths, one a line').fill('/var/run/docker.sock\netc');
      await a11y('/policies/new');
      await page.getByRole('button', { name: 'Save' }).click();
      const error = page.locator('#f-volumesBlocked-paths-error');
      await expect.poll(() => error.textContent()).toContain('item 2: must begin with `/`');
      // The error sits with its field, the field says so, and the summary is a live region.
      expect(await page.getByLabel('Host paths, one a line').getAttribute('aria-describedby')).toContain('f-volumesBlocked-paths-error');
      expect(await page.getByRole('alert').filter({ hasText: 'Validation Failed' }).count()).toBe(1);
      await a11y('/policies/new with errors');
      await page.getByLabel('Host paths, one a line').fill('/var/run/docker.sock\n/etc');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/policies\?saved=/);
      expect(await page.getByText('Policy saved.').count()).toBe(1);
    });
    const policy = (await acme.json('GET', '/v1/runtime-policies?name=prod-baseline')).body.items[0];
    const registry = (await acme.json('GET', '/v1/registries?name=ghcr')).body.items[0];
    const validator = (await acme.json('GET', '/v1/signature-validators?name=gh-actions')).body.items[0];
    expect(validator.verification).toEqual({ method: 'keyless', identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github\\.com/acme/.+$' }] });
    expect(policy).toMatchObject({
      registriesAllowed: { enabled: true, registries: [{ registryId: registry.id }, 'quay.io/acme'] },
      imageContentProtection: { enabled: true, rules: [{ registryUrlTemplate: 'ghcr.io/acme/**', verify: true, validatorId: validator.id }] },
      mode: 'enforce',
      description: 'Baseline for production',
      capabilitiesBlock: { enabled: true, capabilities: ['ALL'] },
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' } }] },
      limitContainerPrivileges: { enabled: true, preset: 'baseline' },
      volumesBlocked: { enabled: true, paths: ['/var/run/docker.sock', '/etc'] },
    });

    await step(page, 'toggle', async () => {
      const toggle = page.getByRole('switch', { name: 'prod-baseline enabled' });
      expect(await toggle.getAttribute('aria-checked')).toBe('true');
      await toggle.click();
      await expect.poll(() => page.getByRole('switch', { name: 'prod-baseline enabled' }).getAttribute('aria-checked')).toBe('false');
      expect((await acme.json('GET', `/v1/runtime-policies/${policy.id}`)).body.enabled).toBe(false);
    });

    await step(page, 'conflict', async () => {
      await page.getByRole('link', { name: 'prod-baseline' }).click();
      await page.waitForURL(new RegExp(`/policies/${policy.id}$`));
      await page.getByLabel('Audit: report what does not comply').check();
      // Meanwhile someone changes the description through the API.
      const current = await acme.json('GET', `/v1/runtime-policies/${policy.id}`);
      await acme.json('PATCH', `/v1/runtime-policies/${policy.id}`, { description: 'changed by the API' }, { 'if-match': current.headers.get('etag')! });
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const panel = page.getByRole('alert').filter({ hasText: 'Someone else changed this policy' });
      await expect.poll(() => panel.count()).toBe(1);
      expect(await panel.textContent()).toContain('changed by the API');
      await a11y('/policies/:id conflict');
      await page.getByRole('button', { name: 'Save mine over theirs' }).click();
      await page.waitForURL(/\/policies\?saved=/);
      expect((await acme.json('GET', `/v1/runtime-policies/${policy.id}`)).body.mode).toBe('audit');
    });

    await step(page, 'history', async () => {
      await page.goto(`${base}/policies/${policy.id}/history`);
      expect(await page.getByRole('heading', { name: /Revision 4: updated/ }).count()).toBe(1);
      expect(await page.getByRole('table', { name: 'What changed in revision 4' }).textContent()).toContain('/mode');
      await a11y('/policies/:id/history');
    });

    await step(page, 'audit', async () => {
      const cluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu' });
      const token = await acme.json('POST', `/v1/clusters/${cluster.body.id}/enrollment-tokens`);
      const enrolled = await h.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.body.token }) });
      const { credential } = (await enrolled.json()) as { credential: string };
      const now = Date.now();
      const events = [0, 1, 2, 3].map((i) => auditEvent(new Date(now - i * 3_600_000 - 60_000), { policy: { id: policy.id, name: policy.name, revision: 2 }, verdict: i % 2 ? 'alerted' : 'blocked' }));
      expect((await sendEvents(h, credential, events)).status).toBeLessThan(300);
      await page.goto(`${base}/audit`);
      const chart = page.getByRole('img', { name: 'Decisions over time by verdict' });
      await expect.poll(() => chart.locator('rect.s-blocked').count()).toBe(2);
      expect(await chart.locator('rect.s-alerted').count()).toBe(2);
      expect(await page.getByRole('img', { name: 'Top policies' }).textContent()).toContain('prod-baseline');
      expect(await page.getByRole('row').filter({ hasText: 'blocked' }).count()).toBeGreaterThan(0);
      await a11y('/audit');
      await page.getByLabel('Verdict', { exact: true }).selectOption('alerted');
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL(/verdict=alerted/);
      expect(await page.locator('tbody tr').filter({ hasText: 'blocked' }).count()).toBe(0);
    });

    expect(browser.problems).toEqual([]);
  }, 240_000);

  it('passes axe on every page, at laptop and phone widths', async () => {
    const { page } = browser;
    // The check can fail: a button without a name is a critical violation.
    await page.goto(`${base}/policies`);
    await page.evaluate(() => document.querySelector('main')!.append(document.createElement('button')));
    expect((await axe(page)).map((v) => v.id)).toContain('button-name');
    // The policy of the walk above: its edit form holds the registry picker and a validator summary.
    const walked = (await acme.json('GET', '/v1/runtime-policies?name=prod-baseline')).body.items[0];
    for (const width of [1280, 375]) {
      await page.setViewportSize({ width, height: 800 });
      for (const path of [...(walked ? [`/policies/${walked.id}`] : []), '/policies', '/policies/new', '/scopes/new', '/runtime-profiles/new', '/clusters/new', '/runtime-profiles', '/scopes', '/signature-validators', '/signature-validators/new', '/images', '/images/new', '/registries', '/registries/new', '/clusters', '/settings/file-threat-protection', '/audit', '/webhooks', '/api-keys', '/api-keys/new', '/roles']) {
        await step(page, `axe-${width}-${path}`, async () => {
          await page.goto(`${base}${path}`);
          if (process.env.PALISADE_CONSOLE_SHOTS) await page.screenshot({ path: `${process.env.PALISADE_CONSOLE_SHOTS}/${width}${path.replaceAll('/', '_')}.png`, fullPage: true });
          await a11y(`${path} at ${width}px`);
          // Nothing wider than the screen but tables, which scroll inside their own box.
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          expect(overflow, `${path} at ${width}px overflows by ${overflow}px`).toBeLessThanOrEqual(0);
        });
      }
    }
    expect(browser.problems).toEqual([]);
  }, 240_000);
});
