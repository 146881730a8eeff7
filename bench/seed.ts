import { createApp } from '../workers/app.ts';
import { generateSigningKey } from '../workers/bundles/signing-keys.ts';
import type { Database } from '../workers/db/db.ts';

export const OPERATOR = 'bench-operator';

async function call(app: ReturnType<typeof createApp>, key: string, method: string, path: string, body?: unknown) {
  const res = await app.request(path, { method, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
}

/** A tenant with `policies` runtime policies and `profiles` profiles over one cluster, and an enrolled agent. */
export async function seedTenant(database: Database, sizes: { policies: number; profiles: number }) {
  const keys = { current: (await generateSigningKey()).key, previous: [] };
  const app = createApp({ database, config: { operatorKey: OPERATOR }, signing: { issuer: 'https://bench', keys } });
  const tenant = await (await app.request('/v1/tenants', { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: `bench-${Date.now()}` }) })).json() as { apiKey: string };
  const key = tenant.apiKey;
  const cluster = await call(app, key, 'POST', '/v1/clusters', { name: 'prod-eu' });
  const scope = await call(app, key, 'POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
  const profiles: string[] = [];
  for (let i = 0; i < sizes.profiles; i++) {
    const p = await call(app, key, 'POST', '/v1/runtime-profiles', {
      name: `profile-${i}`,
      executables: { enabled: true, mode: 'allowListedOnly', executables: [{ path: '/usr/bin/*' }, { path: `/opt/app-${i}/bin/server` }], exclusions: [] },
      egress: { enabled: true, allowed: [{ fqdn: `*.svc-${i}.example.com`, ports: ['443'], protocol: 'TCP' }] },
    });
    profiles.push(p.id);
  }
  for (let i = 0; i < sizes.policies; i++) {
    await call(app, key, 'POST', '/v1/runtime-policies', {
      name: `policy-${i}`,
      mode: i % 3 === 0 ? 'enforce' : 'audit',
      scopeIds: [scope.id],
      exclusions: { enabled: true, items: [{ kind: 'Namespace', name: 'kube-system' }] },
      bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'memoryLimitsSet'] },
      capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN', 'NET_ADMIN'] },
      containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: `svc-${i}` }, profileIds: [profiles[i % profiles.length]] }] },
      limitContainerPrivileges: { enabled: true, preset: 'baseline', settings: ['runAsRoot'] },
      registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', `registry-${i}.example.com`] },
      volumesBlocked: { enabled: true, paths: ['/etc', '/var/run/docker.sock'] },
    });
  }
  const token = await call(app, key, 'POST', `/v1/clusters/${cluster.id}/enrollment-tokens`, {});
  const enrolled = await (await app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.token }) })).json() as { credential: string };
  return { app, key, clusterId: cluster.id as string, tenantKey: key, credential: enrolled.credential, keys };
}
