import type { Harness, TenantClient } from './harness.ts';

/** A cluster in the tenant with an enrolled agent: its id and credential. */
export async function enrolledCluster(h: Harness, tenant: TenantClient, name: string, labels?: Record<string, string>) {
  const cluster = await tenant.json('POST', '/v1/clusters', { name, ...(labels ? { labels } : {}) });
  if (cluster.status !== 201) throw new Error(`cluster: ${JSON.stringify(cluster.body)}`);
  const token = await tenant.json('POST', `/v1/clusters/${cluster.body.id}/enrollment-tokens`, {});
  const enrolled = await h.app.request('/v1/agent/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: token.body.token }) });
  if (enrolled.status !== 201) throw new Error(`enroll: ${await enrolled.text()}`);
  const body = (await enrolled.json()) as { clusterId: string; tenantId: string; credential: string; issuer: string; jwks: { keys: object[] } };
  return { ...body, token: token.body.token as string };
}

export function agentRequest(h: Harness, credential: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return Promise.resolve(h.app.request(path, { ...init, headers: { authorization: `Bearer ${credential}`, ...init.headers } }));
}
