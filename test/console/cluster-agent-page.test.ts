import { afterAll, describe, expect, it } from 'vitest';
import { agentRequest, enrolledCluster } from '../support/agent.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { signIn } from './support.ts';

const db = await testPglite();
afterAll(() => db.close());
const h = harness(db);
const acme = await h.tenant('acme');

describe("a cluster's agent page", () => {
  it('shows the bundle revision, the last poll and what each live instance enforces, in words', async () => {
    const user = await signIn(h, acme);
    const cluster = await enrolledCluster(h, acme, 'prod-eu');
    const status = {
      activeRevision: 7,
      activeDigest: `sha256:${'cd'.repeat(32)}`,
      lastDownloadAt: '2026-12-01T10:00:00Z',
      agentVersion: '0.9.1',
      lastError: { code: 'bundle_expired', message: 'the bundle expired', at: '2026-12-01T09:00:00Z' },
      enforcement: { component: 'admission', instance: 'palisade-admission-0', sections: ['registriesAllowed', 'volumesBlocked'] },
    };
    const posted = await agentRequest(h, cluster.credential, '/v1/agent/status', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(status) });
    expect(posted.status).toBeLessThan(300);
    const page = await user.get(`/clusters/${cluster.clusterId}/agent`);
    expect(page.status).toBe(200);
    const text = page.html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
    expect(text).toContain(`Bundle revision 7 ( sha256:${'cd'.repeat(32)} )`);
    expect(text).toMatch(/Last poll \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    expect(text).toContain('Last bundle download 2026-12-01 10:00:00 UTC');
    expect(text).toContain('Last error bundle_expired: the bundle expired (2026-12-01 09:00:00 UTC)');
    expect(text).toContain('Enforced: registriesAllowed, volumesBlocked.');
    expect(text).toContain('palisade-admission-0 admission registriesAllowed, volumesBlocked none');
    // No raw JSON left in the page body (it used to dump the enforcement object).
    expect(/<main[\s\S]*<\/main>/.exec(page.html)![0]).not.toContain('{&quot;');
  });
});
