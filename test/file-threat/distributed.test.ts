import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { BundleClient, MemoryBundleStore, MemorySignatureSetStore, SignatureSetClient } from '../../agent-sdk/src/node.ts';
import { procRoots } from '../../agent-sdk/src/file-threat/roots.ts';
import { FileThreatService } from '../../agent-sdk/src/file-threat/service.ts';
import { combinedSignatureSource, FileSignatureSource } from '../../agent-sdk/src/file-threat/signatures.ts';
import { NodeAgentConfig } from '../../agent-sdk/src/runtime/config.ts';
import { PodCache } from '../../agent-sdk/src/runtime/pods.ts';
import { uuidv7 } from '../../agent-sdk/src/webhook/uuid.ts';
import { serveApp, type LiveApp } from '../../agent-sdk/test/support/live-app.ts';
import { enrolledCluster } from '../support/agent.ts';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';
import { eventFor, fakeProc, PLANTED, pod, until, writeSignatures } from './support.ts';

/**
 * The node's File Threat Protection with the tenant's distributed signature set, as `palisade-agent node` wires it:
 * a set uploaded to the real control plane, named by the bundle, fetched and verified by the agent, scanned with
 * together with a local signature file; a new upload reaches the scanner and rescans the container.
 */
const database = await testPglite();
const h = harness(database);
const dir = mkdtempSync(join(tmpdir(), 'palisade-ftp-distributed-'));
const root = fakeProc(join(dir, 'proc'));
const events: AuditEventV1[] = [];
const pods = new PodCache();
pods.set(pod());
let live: LiveApp;
let bundles: BundleClient;
let sets: SignatureSetClient;
let service: FileThreatService;
let acme: Awaited<ReturnType<typeof h.tenant>>;

const poll = async () => {
  await bundles.pollOnce();
  return sets.syncWith(bundles.active);
};

beforeAll(async () => {
  live = await serveApp(h);
  acme = await h.tenant('acme');
  const agent = await enrolledCluster(h, acme, 'prod-eu');
  const scope = await acme.json('POST', '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
  await acme.json('POST', '/v1/runtime-policies', { name: 'ftp', mode: 'enforce', scopeIds: [scope.body.id], fileThreatProtection: { enabled: true } });
  expect((await acme.json('POST', '/v1/file-signature-sets', { name: 'ours', format: 'ndb', content: 'Tenant.Marker:0:*:0badf00dcafe0badf00d\n' })).status).toBe(201);
  const common = { url: live.url, credential: agent.credential, issuer: agent.issuer, tenantId: agent.tenantId };
  bundles = new BundleClient({ ...common, trust: agent.jwks as never, clusterId: agent.clusterId, store: new MemoryBundleStore() });
  sets = new SignatureSetClient({ ...common, trust: () => bundles.trustAnchor, store: new MemorySignatureSetStore() });
  expect(await poll()).toMatchObject({ outcome: 'activated' });
  const config = NodeAgentConfig.parse({ sensors: [{ kind: 'tetragon', path: join(dir, 't.log') }], fileThreat: { procDir: join(dir, 'proc'), quarantineDir: join(dir, 'q'), workers: 1, settleMilliseconds: 50 } }).fileThreat!;
  const local = new FileSignatureSource(writeSignatures(join(dir, 'sigs')));
  service = new FileThreatService({
    config, signatures: combinedSignatureSource([sets.scanSource(), local]), roots: procRoots(join(dir, 'proc')),
    bundle: () => (bundles.active ? { content: bundles.active.content, revision: bundles.active.revision } : null),
    pods: () => pods.all(), onAudit: (e) => events.push(...e), newId: uuidv7,
  });
  await service.start();
  await until('the container covered and scanned', () => service.targets().length === 1 && !service.busy);
}, 60_000);

afterAll(async () => {
  await service?.stop();
  await live?.close();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('File Threat Protection with the distributed signature set', { timeout: 60_000 }, () => {
  it('detects with the tenant\'s uploaded signatures and the local file together', async () => {
    writeFileSync(join(root, 'tenant.bin'), Buffer.concat([Buffer.alloc(100, 1), Buffer.from('0badf00dcafe0badf00d', 'hex'), Buffer.alloc(10)]));
    writeFileSync(join(root, 'local.bin'), Buffer.concat([Buffer.alloc(64, 2), PLANTED]));
    expect((await eventFor(events, '/tenant.bin')).file).toMatchObject({ verdict: 'infected', signature: 'Tenant.Marker' });
    expect((await eventFor(events, '/local.bin')).file).toMatchObject({ verdict: 'infected', signature: 'Palisade.Test.Planted' });
  });

  it('a new upload reaches the node through the next poll, and files already there are rescanned with it', async () => {
    writeFileSync(join(root, 'later.bin'), Buffer.concat([Buffer.alloc(32, 3), Buffer.from('feedfacefeedface', 'hex')]));
    await until('later.bin scanned clean', () => !service.busy && service.counters.scanned.clean > 0);
    expect(events.some((e) => e.file?.path === '/later.bin')).toBe(false);
    expect((await acme.json('POST', '/v1/file-signature-sets', { name: 'weekly', format: 'ndb', content: 'Tenant.Weekly:0:*:feedfacefeedface\n' })).status).toBe(201);
    expect(await poll()).toMatchObject({ outcome: 'activated' });
    expect((await eventFor(events, '/later.bin')).file).toMatchObject({ verdict: 'infected', signature: 'Tenant.Weekly', trigger: expect.any(String) });
  });
});
