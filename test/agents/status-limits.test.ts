import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_AGENT_STATUS_BYTES } from '../../workers/agents/agent.routes.ts';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness, type TenantClient } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
afterAll(() => database.close());
const h = harness(database);
let acme: TenantClient;
let credential: string;

beforeAll(async () => {
  acme = await h.tenant('acme');
  credential = (await enrolledCluster(h, acme, 'prod')).credential;
});

async function report(body: unknown) {
  const res = await agentRequest(h, credential, '/v1/agent/status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? JSON.parse(text) : undefined };
}

describe('agent status reports are bounded', () => {
  it(`refuses a body over ${MAX_AGENT_STATUS_BYTES} bytes with 413`, async () => {
    const res = await report({ activeRevision: 1, padding: 'x'.repeat(MAX_AGENT_STATUS_BYTES) });
    expect(res.status).toBe(413);
    expect(res.type).toBe('application/problem+json');
  });

  it('refuses oversized fields and too many counters with a pointer each (422)', async () => {
    const cases: Array<[unknown, string]> = [
      [{ activeRevision: 1, activeDigest: 'x'.repeat(200) }, '/activeDigest'],
      [{ activeRevision: 1, lastDownloadAt: 'x'.repeat(100) }, '/lastDownloadAt'],
      [{ activeRevision: 1, lastError: { code: 'x'.repeat(200), message: 'm', at: 'now' } }, '/lastError/code'],
      [{ activeRevision: 1, lastError: { code: 'c', message: 'm'.repeat(5000), at: 'now' } }, '/lastError/message'],
      [{ activeRevision: 1, counters: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`c${i}`, i])) }, '/counters'],
      [{ activeRevision: 1, counters: { ['k'.repeat(300)]: 1 } }, '/counters'],
    ];
    for (const [body, pointer] of cases) {
      const res = await report(body);
      expect(res.status, pointer).toBe(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer).some((p: string) => p.startsWith(pointer))).toBe(true);
    }
    const ok = await report({ activeRevision: 1, activeDigest: `sha256:${'a'.repeat(64)}`, counters: { decisions: 10 }, lastError: { code: 'fetch', message: 'timeout', at: new Date().toISOString() } });
    expect(ok.status).toBe(204);
  });
});
