import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
let clock = new Date('2026-05-01T00:00:00Z');
const h = harness(database, { now: () => clock });
let acme: TenantClient;

beforeAll(async () => {
  acme = await h.tenant('acme');
});

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('agent credentials after their cluster is deleted', () => {
  it('stop working at once: no 500 on status, no events stored for a cluster that is gone', async () => {
    const agent = await enrolledCluster(h, acme, 'doomed');
    // The credential is now verified and remembered.
    expect((await agentRequest(h, agent.credential, '/v1/agent/bundle')).status).toBe(200);
    expect((await acme.request('DELETE', `/v1/clusters/${agent.clusterId}`)).status).toBe(204);

    const status = await agentRequest(h, agent.credential, '/v1/agent/status', json({ activeRevision: 1 }));
    expect(status.status).toBe(401);
    expect(status.headers.get('content-type')).toBe('application/problem+json');
    const rotate = await agentRequest(h, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(rotate.status).toBe(401);
    const event = {
      apiVersion: 'palisade.dev/audit/v1',
      id: '0196a000-0000-7000-8000-000000000001',
      time: clock.toISOString(),
      kind: 'admission',
      verdict: 'blocked',
      severity: 'high',
      checks: [],
    };
    const ingest = await agentRequest(h, agent.credential, '/v1/agent/events', json([event]));
    expect(ingest.status).toBe(401);
  });

  it('status reports of a credential whose cluster vanished elsewhere answer 401, not 500', async () => {
    // Another instance deleted the cluster: this process still trusts the credential from memory.
    const agent = await enrolledCluster(h, acme, 'doomed-elsewhere');
    expect((await agentRequest(h, agent.credential, '/v1/agent/bundle')).status).toBe(200);
    await database.client.exec(`delete from clusters where id = '${agent.clusterId}'`);
    const status = await agentRequest(h, agent.credential, '/v1/agent/status', json({ activeRevision: 1 }));
    expect(status.status).toBe(401);
    const rotate = await agentRequest(h, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(rotate.status).toBe(401);
  });
});

describe('credential rotation', () => {
  it('never extends the life of the credential it replaces', async () => {
    const agent = await enrolledCluster(h, acme, 'rotating');
    const first = await agentRequest(h, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(first.status).toBe(201);
    const { previousCredentialExpiresAt } = (await first.json()) as { previousCredentialExpiresAt: string };
    const deadline = Date.parse(previousCredentialExpiresAt);

    // Within the overlap, the old credential rotates again: it must not buy itself another overlap.
    clock = new Date(clock.getTime() + 500_000);
    const again = await agentRequest(h, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    if (again.status === 201) expect(Date.parse(((await again.json()) as { previousCredentialExpiresAt: string }).previousCredentialExpiresAt)).toBeLessThanOrEqual(deadline);

    clock = new Date(deadline + 1000);
    expect((await agentRequest(h, agent.credential, '/v1/agent/bundle')).status).toBe(401);
  });

  it('refuses to mint a successor for a credential revoked elsewhere, even while this process still trusts it', async () => {
    const agent = await enrolledCluster(h, acme, 'revoked-elsewhere');
    expect((await agentRequest(h, agent.credential, '/v1/agent/bundle')).status).toBe(200);
    await database.client.exec(`update cluster_credentials set revoked_at = now() where cluster_id = '${agent.clusterId}'`);
    const rotate = await agentRequest(h, agent.credential, '/v1/agent/credentials/rotate', { method: 'POST' });
    expect(rotate.status).toBe(401);
  });
});
