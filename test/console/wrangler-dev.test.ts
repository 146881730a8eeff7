import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { skipWithoutPostgres, testPostgres, type TestPostgres } from '../support/postgres.ts';
import { hasChromium, launch, step, type Browser } from './browser.ts';

const ROOT = join(import.meta.dirname, '../..');
const OPERATOR_KEY = 'operator-wrangler-dev-key';

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });

/**
 * A smoke run of the console under `wrangler dev` (workerd, offline; Static Assets serving htmx and the stylesheet)
 * against the real Postgres through the Neon driver and the local WebSocket proxy, in Debian's chromium.
 */
describe.skipIf(skipWithoutPostgres('test/console/wrangler-dev.test.ts') || !hasChromium)('console under wrangler dev', () => {
  let pgdb: TestPostgres;
  let wrangler: ChildProcess;
  let dir: string;
  let base: string;
  let browser: Browser;
  let output = '';

  beforeAll(async () => {
    pgdb = await testPostgres();
    mkdirSync(join(ROOT, '.wrangler'), { recursive: true });
    dir = mkdtempSync(join(ROOT, '.wrangler/console-dev-'));
    const env = {
      DATABASE_URL: pgdb.url,
      PALISADE_NEON_WS_PROXY: pgdb.proxy.address,
      PALISADE_OPERATOR_KEY: OPERATOR_KEY,
      PALISADE_SIGNING_KEY: JSON.stringify((await generateSigningKey()).privateJwk),
      PALISADE_SESSION_KEY: 'wrangler-dev-session-key-for-tests',
    };
    writeFileSync(join(dir, 'dev.env'), Object.entries(env).map(([k, v]) => `${k}='${v}'`).join('\n') + '\n');
    const port = await freePort();
    base = `http://localhost:${port}`;
    wrangler = spawn(join(ROOT, 'node_modules/.bin/wrangler'), ['dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()), '--env-file', join(dir, 'dev.env'), '--persist-to', join(dir, 'state')], {
      cwd: ROOT,
      env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true', CI: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    wrangler.stdout!.on('data', (d) => (output += d));
    wrangler.stderr!.on('data', (d) => (output += d));
    const deadline = Date.now() + 150_000;
    for (;;) {
      if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited (${wrangler.exitCode}):\n${output}`);
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
      if (up) break;
      if (Date.now() > deadline) throw new Error(`wrangler dev did not start:\n${output}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    browser = await launch();
  }, 200_000);

  afterAll(async () => {
    await browser?.close();
    if (wrangler?.pid && wrangler.exitCode === null) {
      const exited = new Promise((r) => wrangler.once('exit', r));
      process.kill(-wrangler.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
    await pgdb?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('serves the console, its assets and the policy form', async () => {
    const api = `http://127.0.0.1:${new URL(base).port}`;
    const tenant = await fetch(`${api}/v1/tenants`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'acme' }) });
    expect(tenant.status, output).toBe(201);
    const { apiKey } = (await tenant.json()) as { apiKey: string };
    const htmx = await fetch(`${api}/assets/htmx-2.0.11.min.js`);
    expect(htmx.status).toBe(200);
    expect(await htmx.text()).toBe(readFileSync(join(ROOT, 'workers/console/static/assets/htmx-2.0.11.min.js'), 'utf8'));

    const { page } = browser;
    await step(page, 'wrangler-dev-sign-in', async () => {
      await page.goto(`${base}/login`);
      await page.getByLabel('API key').fill(apiKey);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.waitForURL(/\/policies$/);
    });
    await step(page, 'wrangler-dev-scope', async () => {
      await page.goto(`${base}/scopes/new`);
      await page.getByLabel('Name', { exact: true }).fill('prod');
      await page.getByLabel('Cluster (masks with *)').fill('prod-*');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/scopes$/);
    });
    await step(page, 'wrangler-dev-policy', async () => {
      await page.goto(`${base}/policies/new`);
      await page.getByLabel('Name', { exact: true }).fill('edge');
      await page.getByLabel('Scope').selectOption({ label: 'prod' });
      await page.getByLabel('Audit: report what does not comply').check();
      await page.getByLabel('Volumes blocked: enabled').check();
      await page.getByLabel('Host paths, one a line').fill('etc');
      await page.getByRole('button', { name: 'Save' }).click();
      await expect.poll(() => page.locator('#f-volumesBlocked-paths-error').textContent()).toContain('must begin with `/`');
      await page.getByLabel('Host paths, one a line').fill('/etc');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.waitForURL(/\/policies\?saved=/);
      const toggle = page.getByRole('switch', { name: 'edge enabled' });
      await toggle.click();
      await expect.poll(() => page.getByRole('switch', { name: 'edge enabled' }).getAttribute('aria-checked')).toBe('false');
    });
    expect(browser.problems).toEqual([]);
  }, 180_000);
});
