import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { cli, killStarted, start } from './support/cli.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';
import { badPod, call, clientCa, clientIdentity, goodPod, postReview, review, selfSigned, webhookBundle, type ClientTls } from './support/webhook.ts';

let key: SigningKey;
let server: FakeControlPlane;
let dir: string;
let ca: ClientTls;

async function writeConfig(name: string, webhook: Record<string, unknown>): Promise<string> {
  const config = { url: server.url, clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credentialFile: 'credential', trustFile: 'jwks.json', stateDir: `state-${name}`, webhook };
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  return file;
}

beforeAll(async () => {
  const generated = await newKey();
  key = generated.key;
  server = await new FakeControlPlane(generated.jwks).start();
  dir = await mkdtemp(join(tmpdir(), 'palisade-webhook-run-'));
  await mkdir(dir, { recursive: true });
  const pair = await selfSigned();
  const authority = await clientCa();
  ca = { ca: pair.cert, ...(await clientIdentity('kube-apiserver', authority)) };
  await writeFile(join(dir, 'client-ca.crt'), authority.cert);
  await writeFile(join(dir, 'tls.crt'), pair.cert);
  await writeFile(join(dir, 'tls.key'), pair.key);
  await writeFile(join(dir, 'credential'), CREDENTIAL + '\n');
  await writeFile(join(dir, 'jwks.json'), JSON.stringify(generated.jwks));
  const content = await webhookBundle();
  server.serve(await sign(key, { revision: 21, content: { ...content, tenantId: TENANT, cluster: { ...content.cluster, id: CLUSTER } } }), '"r21"');
});
afterAll(async () => {
  killStarted();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('palisade-agent run with a webhook section (spawned)', { timeout: 60_000 }, () => {
  it('keeps the bundle current, serves admission over HTTPS, and reports decisions and audit drops in its status', async () => {
    const config = await writeConfig('ok', { listen: '127.0.0.1', port: 0, certFile: 'tls.crt', keyFile: 'tls.key', clientCaFile: 'client-ca.crt', auditQueueCapacity: 1 });
    const agent = start(['run', '--config', config]);
    await expect.poll(() => agent.output(), { timeout: 20_000 }).toContain('"event":"activated","revision":21');
    const port = Number(/"event":"webhook_listening","address":"127.0.0.1","port":(\d+),"failurePolicy":"closed"/.exec(agent.output())![1]);
    const url = `https://127.0.0.1:${port}`;
    expect((await call(`${url}/readyz`, ca)).text).toBe('ready: bundle revision 21\n');
    const denied = (await postReview(url, ca, review(badPod()))).json().response;
    for (const name of ['web-2', 'web-3']) expect((await postReview(url, ca, review(badPod(name)))).json().response.allowed).toBe(false);
    expect((await postReview(url, ca, review(badPod()))).json().response.allowed).toBe(false); // a repeat: aggregated
    expect(denied.status.message).toMatch(/^Palisade denied Pod "web" in namespace "shop" \(bundle revision 21\):\n- container "app"/);
    expect((await postReview(url, ca, review(goodPod()))).json().response.allowed).toBe(true);
    expect((await call(`${url}/metrics`, ca)).text).toContain('palisade_bundle_revision 21\n');

    const pid = Number(/"event":"starting","pid":(\d+)/.exec(agent.output())![1]);
    process.kill(pid, 'SIGTERM');
    const run = await agent.done;
    expect(run.code).toBe(0);
    // One event per decision (the repeat counted into an aggregate) into a queue of 1: what the pump had not taken
    // yet is dropped and counted; the aggregate is handed over at shutdown.
    expect(run.stdout).toMatch(/"event":"webhook_stopped","admissionAllowed":1,"admissionDenied":4,"auditEvents":4,"auditQueued":[01],"auditDroppedOverflow":0,"auditDroppedOverflowEnforce":\d,/);
    expect(server.statuses.at(-1)!.counters).toMatchObject({ activations: 1, admissionAllowed: 1, admissionDenied: 4, auditEvents: 4, auditDroppedClosed: 0 });
    // What this admission instance enforces: the engine's checks' sections, never runtime profiles or file threats.
    const enforcement = (server.statuses.at(-1) as { enforcement?: { component: string; instance: string; sections: string[] } }).enforcement;
    expect(enforcement).toMatchObject({ component: 'admission', instance: expect.any(String), detectOnly: [] });
    expect(enforcement!.sections).toEqual(expect.arrayContaining(['limitContainerPrivileges', 'registriesAllowed', 'volumesBlocked', 'capabilitiesBlock']));
    expect(enforcement!.sections).not.toContain('containerRuntimeProfiles');
    expect(enforcement!.sections).not.toContain('fileThreatProtection');
  });

  it('refuses a webhook configuration with a missing certificate or a bad setting (exit 2, naming the problem)', async () => {
    const missing = await writeConfig('missing', { certFile: 'nope.crt', keyFile: 'tls.key', clientCaFile: 'client-ca.crt', port: 0 });
    const bad = await writeConfig('bad', { certFile: 'tls.crt', keyFile: 'tls.key', clientCaFile: 'client-ca.crt', failurePolicy: 'sometimes' });
    const swapped = await writeConfig('swapped', { certFile: 'tls.key', keyFile: 'tls.crt', clientCaFile: 'client-ca.crt', port: 0 });
    const unauthenticated = await writeConfig('unauthenticated', { certFile: 'tls.crt', keyFile: 'tls.key', port: 0 });
    const notCa = await writeConfig('not-ca', { certFile: 'tls.crt', keyFile: 'tls.key', clientCaFile: 'tls.key', port: 0 });
    const [a, b, c, d, e] = await Promise.all([missing, bad, swapped, unauthenticated, notCa].map((f) => cli('run', '--config', f)));
    expect(d!.code).toBe(2);
    expect(d!.stderr).toMatch(/unauthenticated\.json: not an agent configuration: \/webhook\/clientCaFile: set clientCaFile/);
    expect(e!.code).toBe(2);
    expect(e!.stderr).toContain(`${join(dir, 'tls.key')}: not a PEM CA certificate bundle`);
    expect(a!.code).toBe(2);
    expect(a!.stderr).toContain(`${join(dir, 'nope.crt')}: no such file`);
    expect(b!.code).toBe(2);
    expect(b!.stderr).toMatch(/bad\.json: not an agent configuration: \/webhook\/failurePolicy: /);
    expect(c!.code).toBe(2);
    expect(c!.stderr).toContain(`${join(dir, 'tls.key')}: not a PEM certificate`);
  });
});
