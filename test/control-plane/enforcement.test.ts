import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveEnforcement } from '../../workers/agents/enforcement.store.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let globex: TenantClient;
let eu: Awaited<ReturnType<typeof enrolledCluster>>;
let us: Awaited<ReturnType<typeof enrolledCluster>>;
let policyId: string;

const ADMISSION = ['bestPracticeCheck', 'blockNonCompliantImages', 'blockUnregisteredImages', 'capabilitiesBlock', 'limitContainerPrivileges', 'registriesAllowed', 'volumesBlocked'];
const report = (credential: string, enforcement: Record<string, unknown>) =>
  agentRequest(h, credential, '/v1/agent/status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ activeRevision: 1, enforcement }) });

beforeAll(async () => {
  acme = await h.tenant('acme');
  globex = await h.tenant('globex');
  eu = await enrolledCluster(h, acme, 'prod-eu');
  us = await enrolledCluster(h, acme, 'prod-us');
  await enrolledCluster(h, acme, 'dev-1');
  const scopeId = (await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] })).body.id;
  const profileId = (await acme.json('POST', '/v1/runtime-profiles', { name: 'web', executables: { enabled: true, executables: [{ path: '/bin/sh' }] } })).body.id;
  policyId = (
    await acme.json('POST', '/v1/runtime-policies', {
      name: 'prod', mode: 'enforce', scopeIds: [scopeId],
      limitContainerPrivileges: { enabled: true, preset: 'baseline' },
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [profileId] }] },
    })
  ).body.id;
});

describe('what agents enforce, per cluster and on each policy', () => {
  it('a policy shows every cluster it reaches where a section it enables is not enforced; no agent enforces nothing', async () => {
    const got = await acme.json('GET', `/v1/runtime-policies/${policyId}`);
    expect(got.body.enforcement.notEnforcedIn).toEqual([
      { clusterId: eu.clusterId, clusterName: 'prod-eu', sections: ['containerRuntimeProfiles', 'limitContainerPrivileges'] },
      { clusterId: us.clusterId, clusterName: 'prod-us', sections: ['containerRuntimeProfiles', 'limitContainerPrivileges'] },
    ]);
  });

  it('stores each instance and derives the cluster from the live ones: admission, plus sections every node enforces', async () => {
    expect((await report(eu.credential, { component: 'admission', instance: 'agent-a', sections: ADMISSION })).status).toBe(204);
    expect((await report(eu.credential, { component: 'admission', instance: 'agent-b', sections: ADMISSION })).status).toBe(204);
    expect((await report(eu.credential, { component: 'node', instance: 'node-1', sections: ['containerRuntimeProfiles'], detectOnly: ['fileThreatProtection'] })).status).toBe(204);
    expect((await report(eu.credential, { component: 'node', instance: 'node-2', sections: [] })).status).toBe(204);
    const status = (await acme.json('GET', `/v1/clusters/${eu.clusterId}/status`)).body;
    expect(status.enforcement.sections).toEqual(ADMISSION);
    expect(status.enforcement.detectOnly).toEqual(['fileThreatProtection']);
    expect(status.enforcement.instances.map((i: any) => `${i.component}/${i.instance}/${i.live}`)).toEqual(['admission/agent-a/true', 'admission/agent-b/true', 'node/node-1/true', 'node/node-2/true']);
    // node-2 does not enforce runtime profiles, so the cluster does not: a pod may land there.
    const list = (await acme.json('GET', '/v1/runtime-policies?name=prod')).body.items;
    expect(list[0].enforcement.notEnforcedIn).toEqual([
      { clusterId: eu.clusterId, clusterName: 'prod-eu', sections: ['containerRuntimeProfiles'] },
      { clusterId: us.clusterId, clusterName: 'prod-us', sections: ['containerRuntimeProfiles', 'limitContainerPrivileges'] },
    ]);
  });

  it('an instance silent for more than 10 minutes no longer counts', async () => {
    await database.client.query(`UPDATE agent_enforcement SET reported_at = now() - interval '11 minutes' WHERE instance = 'node-2'`);
    const status = (await acme.json('GET', `/v1/clusters/${eu.clusterId}/status`)).body;
    expect(status.enforcement.sections).toEqual([...ADMISSION.slice(0, 4), 'containerRuntimeProfiles', ...ADMISSION.slice(4)]);
    expect(status.enforcement.instances.find((i: any) => i.instance === 'node-2').live).toBe(false);
    const got = await acme.json('GET', `/v1/runtime-policies/${policyId}`);
    expect(got.body.enforcement.notEnforcedIn.map((c: any) => c.clusterName)).toEqual(['prod-us']);
  });

  it('refuses a malformed enforcement report, and keeps reports within the tenant', async () => {
    expect((await report(us.credential, { component: 'admission', instance: 'x', sections: ['teleportation'] })).status).toBe(422);
    expect((await report(us.credential, { component: 'sidecar', instance: 'x', sections: [] })).status).toBe(422);
    expect((await globex.json('GET', `/v1/clusters/${eu.clusterId}/status`)).status).toBe(404);
    const { rows } = await database.client.query<{ n: number }>(`SELECT count(*)::int AS n FROM agent_enforcement WHERE cluster_id = $1`, [us.clusterId]);
    expect(rows[0]!.n).toBe(0);
  });

  it('derives with intersections: one admission replica lacking a section means the cluster lacks it', () => {
    const now = new Date('2026-06-01T00:10:00Z');
    const row = (component: 'admission' | 'node', instance: string, sections: string[], at = '2026-06-01T00:09:00Z') => ({ component, instance, sections: sections as never, detectOnly: [], reportedAt: at });
    const d = deriveEnforcement([row('admission', 'new', ['volumesBlocked', 'capabilitiesBlock']), row('admission', 'old', ['volumesBlocked']), row('admission', 'gone', [], '2026-05-31T23:59:00Z')], now);
    expect(d.sections).toEqual(['volumesBlocked']);
    expect(d.instances.map((i) => i.live)).toEqual([false, true, true]);
  });
});
