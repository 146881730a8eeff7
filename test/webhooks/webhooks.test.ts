import { describe, expect, it } from 'vitest';
import { expectHiddenFromOtherTenant, expectViewOnly, twoTenants } from '../support/resource-checks.ts';

// Production settings: https only, no loopback.
const { h, acme, globex } = await twoTenants();

const hook = (name: string, extra: Record<string, unknown> = {}) => ({ name, url: `https://hooks.example.com/${name}`, ...extra });

describe('/v1/webhooks', () => {
  it('creates an endpoint and answers its secret once', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('siem', { description: 'SIEM', filters: { verdicts: ['blocked'], minSeverity: 'high' } }));
    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    expect(created.headers.get('location')).toBe(`/v1/webhooks/${created.body.webhook.id}`);
    expect(created.body.webhook).toMatchObject({
      name: 'siem',
      description: 'SIEM',
      url: 'https://hooks.example.com/siem',
      enabled: true,
      filters: { verdicts: ['blocked'], minSeverity: 'high' },
      previousSecretExpiresAt: null,
      disabledReason: null,
    });
    const secret = created.body.secret as string;
    expect(JSON.stringify(created.body.webhook)).not.toContain(secret.slice(6));

    const got = await acme.request('GET', `/v1/webhooks/${created.body.webhook.id}`);
    const text = await got.text();
    expect(got.status).toBe(200);
    expect(text).not.toContain(secret.slice(6));
    expect(text).not.toMatch(/whsec_|"secret"/);
    const list = await acme.request('GET', '/v1/webhooks');
    expect(await list.text()).not.toMatch(/whsec_|"secret"/);
  });

  it('runs the rest of the CRUD cycle with ETags and filters', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('crud'));
    const path = `/v1/webhooks/${created.body.webhook.id}`;
    expect(created.body.webhook.filters).toEqual({});
    const etag = created.headers.get('etag')!;
    const patched = await acme.json('PATCH', path, { enabled: false, filters: { kinds: ['process'] } }, { 'if-match': etag });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ enabled: false, filters: { kinds: ['process'] } });
    expect((await acme.json('PUT', path, hook('crud'), { 'if-match': etag })).status).toBe(412);
    const disabled = await acme.json('GET', '/v1/webhooks?enabled=false');
    expect(disabled.body.items.map((w: { name: string }) => w.name)).toEqual(['crud']);
    expect((await acme.json('GET', '/v1/webhooks?name=cr*')).body.items).toHaveLength(1);
    expect((await acme.json('GET', '/v1/webhooks?enabled=maybe')).status).toBe(400);
    expect((await acme.json('POST', '/v1/webhooks', hook('crud'))).status).toBe(409);
    expect((await acme.request('DELETE', path)).status).toBe(204);
    expect((await acme.json('GET', path)).status).toBe(404);
  });

  it('refuses URLs that are not https or point at private, loopback, link-local or metadata addresses', async () => {
    const refused = async (url: string) => {
      const res = await acme.json('POST', '/v1/webhooks', { name: `bad-${Math.random()}`, url });
      expect(res.status, url).toBe(422);
      return res.body.errors as Array<{ pointer: string; detail: string }>;
    };
    expect(await refused('http://hooks.example.com/')).toEqual([{ pointer: '/url', detail: expect.stringMatching(/https/) }]);
    for (const url of ['https://127.0.0.1/', 'https://2130706433/', 'https://[::1]/', 'https://[::ffff:127.0.0.1]/', 'https://localhost:8443/', 'https://10.1.2.3/', 'https://192.168.1.1/', 'https://100.64.0.1/', 'https://[fd00::1]/', 'https://[fe80::1]/', 'https://169.254.169.254/latest/meta-data', 'https://metadata.google.internal/']) {
      expect((await refused(url))[0]!.pointer, url).toBe('/url');
    }
    expect((await refused('ftp://hooks.example.com/'))[0]!.pointer).toBe('/url');
    expect((await refused('https://u:p@hooks.example.com/'))[0]!.detail).toMatch(/credentials/);
    // A replace is checked the same way.
    const ok = await acme.json('POST', '/v1/webhooks', hook('replace-check'));
    const put = await acme.json('PUT', `/v1/webhooks/${ok.body.webhook.id}`, { name: 'replace-check', url: 'https://169.254.169.254/' });
    expect(put.status).toBe(422);
  });

  it('validates filters and the policies and clusters they name', async () => {
    const bad = await acme.json('POST', '/v1/webhooks', hook('filters', { filters: { kinds: ['nope'], minSeverity: 'extreme', extra: 1 } }));
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual(['/filters/extra', '/filters/kinds/0', '/filters/minSeverity']);
    const unknown = await acme.json('POST', '/v1/webhooks', hook('refs', { filters: { clusterIds: ['0190f0a0-0000-7000-8000-0000000000ff'] } }));
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([{ pointer: '/filters/clusterIds/0', detail: expect.stringMatching(/no cluster/) }]);
    const cluster = await acme.json('POST', '/v1/clusters', { name: 'prod-eu' });
    const known = await acme.json('POST', '/v1/webhooks', hook('refs', { filters: { clusterIds: [cluster.body.id.toUpperCase()] } }));
    expect(known.status).toBe(201);
    expect(known.body.webhook.filters.clusterIds).toEqual([cluster.body.id]);
    // Another tenant's cluster does not exist here.
    expect((await globex.json('POST', '/v1/webhooks', hook('refs', { filters: { clusterIds: [cluster.body.id] } }))).status).toBe(422);
  });

  it('rotates the secret, keeping the previous one for an overlap (24 h by default)', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('rotate'));
    const path = `/v1/webhooks/${created.body.webhook.id}/rotate-secret`;
    const before = Date.now();
    const rotated = await acme.json('POST', path);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    const until = Date.parse(rotated.body.webhook.previousSecretExpiresAt);
    expect(until - before).toBeGreaterThanOrEqual(24 * 3600_000 - 1000);
    expect(until - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    expect(rotated.headers.get('etag')).not.toBe(created.headers.get('etag'));
    const short = await acme.json('POST', path, { overlapSeconds: 0 });
    expect(short.body.webhook.previousSecretExpiresAt).toBeNull();
    expect((await acme.json('POST', path, { overlapSeconds: -1 })).status).toBe(422);
    expect((await acme.json('POST', path, { overlap: 5 })).status).toBe(422);
    expect((await acme.json('POST', path, 'not json', { 'content-type': 'application/json' })).status).toBe(400);
  });

  it('queues a test delivery and lists it in the delivery log', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('ping'));
    const id = created.body.webhook.id;
    const ping = await acme.json('POST', `/v1/webhooks/${id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ id: expect.stringMatching(/^msg_[0-9a-f]{32}$/), webhookId: id, eventType: 'webhook.test', status: 'pending', attempts: 0, lastStatusCode: null, payload: { type: 'webhook.test', data: { webhookId: id } } });
    expect(ping.headers.get('location')).toBe(`/v1/webhooks/${id}/deliveries/${ping.body.id}`);
    expect((await acme.json('GET', ping.headers.get('location')!)).body).toEqual(ping.body);
    for (let i = 0; i < 4; i++) await acme.json('POST', `/v1/webhooks/${id}/test`);
    const first = await acme.json('GET', `/v1/webhooks/${id}/deliveries?limit=3`);
    expect(first.body.items).toHaveLength(3);
    const second = await acme.json('GET', `/v1/webhooks/${id}/deliveries?limit=3&cursor=${first.body.nextCursor}`);
    expect(second.body.items).toHaveLength(2);
    expect(second.body.nextCursor).toBeUndefined();
    const ids = [...first.body.items, ...second.body.items].map((d: { id: string }) => d.id);
    expect(ids).toEqual([...ids].sort().reverse()); // newest first
    expect(ids.at(-1)).toBe(ping.body.id);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries?status=pending`)).body.items).toHaveLength(5);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries?status=failed`)).body.items).toHaveLength(0);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries?status=lost`)).status).toBe(400);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries?since=1`)).status).toBe(400);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries?cursor=junk`)).status).toBe(400);
    // Only failed deliveries can be sent again.
    expect((await acme.json('POST', `/v1/webhooks/${id}/deliveries/${ping.body.id}/retry`)).status).toBe(409);
    expect((await acme.json('POST', `/v1/webhooks/${id}/deliveries/msg_00000000000000000000000000000000/retry`)).status).toBe(404);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries/not-an-id`)).status).toBe(404);
    // A disabled endpoint is not pinged; deleting an endpoint deletes its log.
    const etag = (await acme.json('GET', `/v1/webhooks/${id}`)).headers.get('etag')!;
    expect((await acme.json('PATCH', `/v1/webhooks/${id}`, { enabled: false }, { 'if-match': etag })).status).toBe(200);
    expect((await acme.json('POST', `/v1/webhooks/${id}/test`)).status).toBe(409);
    expect((await acme.request('DELETE', `/v1/webhooks/${id}`)).status).toBe(204);
    expect((await acme.json('GET', `/v1/webhooks/${id}/deliveries`)).status).toBe(404);
  });

  it('needs the webhooks rights (403)', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('rights'));
    const id = created.body.webhook.id;
    const { viewer, outsider } = await expectViewOnly(h, acme, {
      path: '/v1/webhooks',
      created: { body: created.body.webhook, headers: created.headers },
      createBody: hook('nope'),
      replaceBody: hook('rights'),
      patchBody: { enabled: false },
      viewRight: 'webhooks.view',
      manageRight: 'webhooks.manage',
      outsiderRights: ['clusters.view'],
      listQuery: '?name=rights',
    });
    expect((await viewer.json('GET', `/v1/webhooks/${id}/deliveries`)).status).toBe(200);
    expect((await viewer.json('POST', `/v1/webhooks/${id}/rotate-secret`)).status).toBe(403);
    expect((await viewer.json('POST', `/v1/webhooks/${id}/test`)).status).toBe(403);
    expect((await outsider.json('GET', `/v1/webhooks/${id}/deliveries`)).status).toBe(403);
  });

  it('hides another tenant’s endpoints and deliveries (404 everywhere)', async () => {
    const created = await acme.json('POST', '/v1/webhooks', hook('private'));
    const id = created.body.webhook.id;
    const ping = await acme.json('POST', `/v1/webhooks/${id}/test`);
    await expectHiddenFromOtherTenant(acme, globex, { path: '/v1/webhooks', created: { body: created.body.webhook, headers: created.headers }, replaceBody: hook('private'), patchBody: { enabled: false } });
    const paths: Array<[string, string, unknown?]> = [
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['POST', `/v1/webhooks/${id}/test`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['GET', `/v1/webhooks/${id}/deliveries/${ping.body.id}`],
      ['POST', `/v1/webhooks/${id}/deliveries/${ping.body.id}/retry`],
    ];
    for (const [method, path, body] of paths) expect((await globex.json(method, path, body)).status, `${method} ${path}`).toBe(404);
    expect((await globex.json('GET', '/v1/webhooks')).body.items).toEqual([]);
    // Globex's own endpoint cannot reach acme's deliveries through its id either.
    const theirs = await globex.json('POST', '/v1/webhooks', hook('theirs'));
    expect((await globex.json('GET', `/v1/webhooks/${theirs.body.webhook.id}/deliveries/${ping.body.id}`)).status).toBe(404);
    expect((await acme.json('GET', `/v1/webhooks/${id}`)).body.enabled).toBe(true);
  });
});
