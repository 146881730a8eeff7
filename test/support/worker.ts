import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Miniflare } from 'miniflare';
import { generateSigningKey } from '../../workers/bundles/signing-keys.ts';
import { testPostgres, type TestPostgres } from './postgres.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'node_modules/.bin');
export const WORKER_OPERATOR_KEY = 'operator-worker-test-key';
const WRANGLER_TOML = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
const COMPATIBILITY_DATE = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(WRANGLER_TOML)![1]!;
/** The cron triggers of wrangler.toml. */
const CRONS = Array.from(/^crons\s*=\s*\[([^\]]*)\]/m.exec(WRANGLER_TOML)![1]!.matchAll(/"([^"]+)"/g), (m) => m[1]!);

/** Bundles workers/worker.ts with wrangler, offline, into a gitignored directory inside the repository. */
async function buildWorker(outdir: string): Promise<string> {
  await promisify(execFile)(join(BIN, 'wrangler'), ['deploy', '--dry-run', '--outdir', outdir], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${BIN}:${process.env.PATH}`, WRANGLER_SEND_METRICS: 'false', WRANGLER_HIDE_BANNER: 'true' },
    timeout: 120_000,
  });
  return join(outdir, 'worker.js');
}

export interface BootedWorker {
  mf: Miniflare;
  pgdb: TestPostgres;
  /** The Worker's local HTTP address (`http://127.0.0.1:PORT`), for real clients such as the agent SDK. */
  url: URL;
  /** A JSON request through `dispatchFetch`, as `key` (the operator key until `tenant()` sets a tenant's). */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; body: any }>;
  /** Provisions a tenant with the operator key; later calls use its admin key. Returns the tenant's id. */
  tenant(name: string): Promise<string>;
  /** Runs the Worker's scheduled handler for `cron`, which must be one of the cron triggers of wrangler.toml. */
  scheduled(cron: string, scheduledTime?: Date): Promise<void>;
  close(): Promise<void>;
}

export interface BootOptions {
  /** Added to (or overriding) the default bindings, a generated PALISADE_SIGNING_KEY among them. */
  bindings?: Record<string, string>;
  /** The webhook queue of wrangler.toml: WEBHOOK_QUEUE produces to palisade-webhooks, which the Worker consumes. */
  webhookQueue?: boolean;
}

/**
 * The Workers bundle built with wrangler and booted in Miniflare against a fresh database on the real Postgres
 * (through the Neon driver and the local WebSocket proxy).
 */
export async function bootWorker({ bindings = {}, webhookQueue = false }: BootOptions = {}): Promise<BootedWorker> {
  mkdirSync(join(ROOT, '.wrangler'), { recursive: true });
  const outdir = mkdtempSync(join(ROOT, '.wrangler/test-'));
  const building = buildWorker(outdir);
  building.catch(() => {}); // awaited below; this only keeps a failure from being reported twice
  let pgdb: TestPostgres | undefined;
  let mf: Miniflare | undefined;
  const close = async () => {
    await mf?.dispose();
    await pgdb?.close();
    rmSync(outdir, { recursive: true, force: true });
  };
  try {
    const database = (pgdb = await testPostgres());
    const bundle = await building;
    mf = new Miniflare({
      modules: [{ type: 'ESModule', path: bundle, contents: readFileSync(bundle, 'utf8') }],
      compatibilityDate: COMPATIBILITY_DATE,
      ...(webhookQueue ? { queueProducers: { WEBHOOK_QUEUE: 'palisade-webhooks' }, queueConsumers: { 'palisade-webhooks': { maxBatchTimeout: 1 } } } : {}),
      bindings: {
        DATABASE_URL: database.url,
        PALISADE_OPERATOR_KEY: WORKER_OPERATOR_KEY,
        PALISADE_SIGNING_KEY: JSON.stringify((await generateSigningKey()).privateJwk),
        PALISADE_NEON_WS_PROXY: database.proxy.address,
        ...bindings,
      },
    });
    const url = await mf.ready;
    const worker = mf;
    let key = WORKER_OPERATOR_KEY;
    const call: BootedWorker['call'] = async (method, path, body, headers = {}) => {
      const res = await worker.dispatchFetch(`http://palisade.test${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers as unknown as Headers, body: text ? JSON.parse(text) : undefined };
    };
    const tenant = async (name: string) => {
      key = WORKER_OPERATOR_KEY;
      const created = await call('POST', '/v1/tenants', { name });
      if (created.status !== 201) throw new Error(`provisioning ${name} failed: ${created.status} ${JSON.stringify(created.body)}`);
      key = created.body.apiKey;
      return created.body.tenant.id as string;
    };
    const scheduled = async (cron: string, scheduledTime?: Date) => {
      if (!CRONS.includes(cron)) throw new Error(`${cron} is not a cron trigger of wrangler.toml (${CRONS.join(', ')})`);
      const handler = (await worker.getWorker()) as unknown as { scheduled(options: { cron: string; scheduledTime?: Date }): Promise<unknown> };
      await handler.scheduled({ cron, scheduledTime });
    };
    return { mf, pgdb: database, url, call, tenant, scheduled, close };
  } catch (err) {
    await close();
    throw err;
  }
}
