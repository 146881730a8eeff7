import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCredentialsKey } from '../../workers/registries/credentials.ts';
import { skipWithoutPostgres } from '../support/postgres.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { bootWorker, type BootedWorker } from '../support/worker.ts';

/**
 * The Workers glue of registry sync: credentials sealed with the PALISADE_REGISTRY_CREDENTIALS_KEY secret, and the
 * sync run by the five-minute cron of wrangler.toml against a real docker-registry behind the token flow, with fetch
 * alone inside workerd. Loopback is allowed here by PALISADE_REGISTRIES_ALLOW_LOOPBACK, as in development.
 */
describe.skipIf(skipWithoutPostgres('test/assurance/worker-sync.test.ts'))('registry sync in the Workers bundle (Miniflare)', () => {
  let worker: BootedWorker | undefined;
  let registry: TestRegistry | undefined;

  beforeAll(async () => {
    registry = await startRegistry({ tokenAuth: true });
    worker = await bootWorker({ bindings: { PALISADE_REGISTRY_CREDENTIALS_KEY: generateCredentialsKey(), PALISADE_REGISTRIES_ALLOW_LOOPBACK: 'true' } });
  }, 180_000);
  afterAll(async () => {
    await worker?.close();
    await registry?.stop();
  });

  it('seals credentials and syncs due registries on the cron, registering what the registry lists', async () => {
    const { call, pgdb } = worker!;
    await worker!.tenant('acme');
    const digest = await registry!.pushImage('team/api', '3.1', 'api');
    const created = await call('POST', '/v1/registries', { name: 'local', url: `${registry!.host}/team`, credentials: registry!.credentials, sync: { enabled: true } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.credentialsSet).toBe(true);
    const stored = (await pgdb.admin.query('select credentials from registries')).rows[0].credentials as string;
    expect(stored).toMatch(/^v1\./);
    expect(stored).not.toContain(registry!.credentials!.password);

    await worker!.scheduled('*/5 * * * *', new Date(Date.now() + 60_000));
    const listed = async () => (await call('GET', `/v1/images?reference=${registry!.host}/team/api`)).body.items.map((i: any) => [i.digest, i.tags]);
    await expect.poll(listed, { timeout: 20_000 }).toEqual([[digest, ['3.1']]]);
    expect((await call('GET', `/v1/registries/${created.body.id}`)).body.syncStatus).toMatchObject({ state: 'ok', imagesRegistered: 1 });
  }, 90_000);
});
