import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliWithStdin } from '../support/evaluate.ts';
import { hasRegistry, Pusher, pushImage, signLegacy, startRegistry, type LocalRegistry } from '../support/oci-registry.ts';
import { podWith, signatureBundle } from '../support/signature-bundle.ts';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe.skipIf(!hasRegistry())('palisade-agent evaluate --verify-signatures', { timeout: 90_000 }, () => {
  let reg: LocalRegistry;
  let dir: string;
  const run = (...args: string[]) => cliWithStdin(dir, '', 'evaluate', '--bundle', 'content.json', '--insecure-unsigned', '--output', 'json', ...args);

  beforeAll(async () => {
    reg = await startRegistry({ auth: { username: 'ci', password: 'ci-pass' } });
    const push = new Pusher(reg.host, reg.auth);
    const digest = await pushImage(push, 'acme/web', 'v1', 'cli-web');
    await signLegacy(push, 'acme/web', digest, ec.privateKey);
    await pushImage(push, 'acme/web', 'unsigned', 'cli-unsigned');
    dir = await mkdtemp(join(tmpdir(), 'palisade-cli-sig-'));
    const content = await signatureBundle({ rules: [{ template: `${reg.host}/**`, verify: true, validator: 'release' }], validators: { release: { verification: { method: 'publicKey', publicKey: ec.publicKey.export({ type: 'spki', format: 'pem' }).toString() } } } });
    const pods = [
      { ...podWith(`${reg.host}/acme/web:v1`), metadata: { name: 'signed', namespace: 'shop' } },
      { ...podWith(`${reg.host}/acme/web:unsigned`), metadata: { name: 'unsigned', namespace: 'shop' } },
    ];
    await writeFile(join(dir, 'content.json'), JSON.stringify(content));
    await writeFile(join(dir, 'pods.json'), JSON.stringify({ kind: 'List', items: pods }));
    await writeFile(join(dir, 'dockerconfig.json'), JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from('ci:ci-pass').toString('base64') } } }));
    await writeFile(join(dir, 'broken.json'), '{"auths": 1}');
  }, 60_000);
  afterAll(async () => {
    await reg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('verifies with registry credentials from --registry-config and exits 1 for the unsigned image', async () => {
    const out = await run('--verify-signatures', '--registry-config', 'dockerconfig.json', '--plain-http', reg.host, 'pods.json');
    expect(out.stderr).toContain('unsigned bundle content');
    expect(out.code).toBe(1);
    const { results } = JSON.parse(out.stdout) as { results: Array<{ name: string; allowed: boolean; findings: Array<{ message: string }> }> };
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.signed!.allowed).toBe(true);
    expect(byName.unsigned!.allowed).toBe(false);
    expect(byName.unsigned!.findings[0]!.message).toContain('no signature found');
  });

  it('without --verify-signatures the rules fail closed and say signatures were not checked', async () => {
    const out = await run('pods.json');
    expect(out.code).toBe(1);
    const { results } = JSON.parse(out.stdout) as { results: Array<{ allowed: boolean; findings: Array<{ message: string }> }> };
    expect(results.every((r) => !r.allowed && r.findings[0]!.message.includes('signatures were not checked'))).toBe(true);
  });

  it('names a malformed registry configuration and exits 2', async () => {
    const out = await run('--verify-signatures', '--registry-config', 'broken.json', 'pods.json');
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('broken.json');
    expect(out.stderr).toContain('.dockerconfigjson');
  });
});
