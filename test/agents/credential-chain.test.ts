import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { expectProblem } from '../support/resource-checks.ts';

const database = await testPglite();
afterAll(() => database.close());
const clock = new Date('2026-05-01T00:00:00Z');
const h = harness(database, { now: () => clock });
let acme: TenantClient;

beforeAll(async () => {
  acme = await h.tenant('acme');
});

async function rotate(credential: string) {
  const res = await agentRequest(h, credential, '/v1/agent/credentials/rotate', { method: 'POST' });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}
const works = async (credential: string) => (await agentRequest(h, credential, '/v1/agent/bundle')).status === 200;
const credentials = async (clusterId: string) => (await acme.json('GET', `/v1/clusters/${clusterId}/credentials`)).body.items as Array<{ id: string; rotatedFrom: string | null; revokedAt: string | null }>;

describe('the rotation chain of cluster credentials', () => {
  it('lets a credential rotate once: the one rotated out cannot mint a second successor', async () => {
    const agent = await enrolledCluster(h, acme, 'once');
    const first = await rotate(agent.credential);
    expect(first.status).toBe(201);
    const again = await rotate(agent.credential);
    expectProblem(again, 409);
    expect(again.body.detail).toMatch(/already rotated/);
    // The successor goes on, and rotates in its turn.
    expect(await works(first.body.credential)).toBe(true);
    const second = await rotate(first.body.credential);
    expect(second.status).toBe(201);
    const items = await credentials(agent.clusterId);
    expect(items).toHaveLength(3);
    expect(items[1]!.rotatedFrom).toBe(items[0]!.id);
    expect(items[2]!.rotatedFrom).toBe(items[1]!.id);
  });

  it('revokes every credential of the chain, the ones rotated from it included, and no other', async () => {
    const agent = await enrolledCluster(h, acme, 'chain');
    const b = (await rotate(agent.credential)).body.credential as string;
    const c = (await rotate(b)).body.credential as string;
    const other = await enrolledCluster(h, acme, 'bystander');
    const [root] = await credentials(agent.clusterId);
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${root!.id}/revoke`)).status).toBe(204);
    for (const credential of [agent.credential, b, c]) expect(await works(credential)).toBe(false);
    expect((await credentials(agent.clusterId)).every((x) => x.revokedAt !== null)).toBe(true);
    expect(await works(other.credential)).toBe(true);

    // Revoking one in the middle takes the whole line, before and after it.
    const next = await enrolledCluster(h, acme, 'middle');
    const m2 = (await rotate(next.credential)).body.credential as string;
    const m3 = (await rotate(m2)).body.credential as string;
    const middle = (await credentials(next.clusterId))[1]!;
    expect((await acme.request('POST', `/v1/clusters/${next.clusterId}/credentials/${middle.id}/revoke`)).status).toBe(204);
    for (const credential of [next.credential, m2, m3]) expect(await works(credential)).toBe(false);
  });

  it('a second enrollment of the same cluster is a chain of its own', async () => {
    const agent = await enrolledCluster(h, acme, 'twice');
    const token = await acme.json('POST', `/v1/clusters/${agent.clusterId}/enrollment-tokens`, {});
    const again = await h.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.body.token }) });
    const second = ((await again.json()) as { credential: string }).credential;
    const [first] = await credentials(agent.clusterId);
    expect((await acme.request('POST', `/v1/clusters/${agent.clusterId}/credentials/${first!.id}/revoke`)).status).toBe(204);
    expect(await works(agent.credential)).toBe(false);
    expect(await works(second)).toBe(true);
  });
});
