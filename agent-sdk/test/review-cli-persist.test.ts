import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SigningKey } from '../../workers/bundles/bundle.sign.ts';
import { main } from '../src/cli/main.ts';
import type { JWKS } from '../src/index.ts';
import { writeEnrollment } from '../src/node/agent-files.ts';
import { CLUSTER, ISSUER, newKey, sign, TENANT } from './support/bundles.ts';
import { CREDENTIAL, FakeControlPlane } from './support/control-plane.ts';

/** Writes of files whose name ends with one of these fail (the tests run as root: permissions cannot make them fail). */
const failing = new Set<string>();
vi.mock('../src/node/atomic-write.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/node/atomic-write.ts')>();
  return {
    ...real,
    writeFileAtomic: (path: string, ...rest: Parameters<typeof real.writeFileAtomic> extends [string, ...infer R] ? R : never) =>
      [...failing].some((name) => path.endsWith(name)) ? Promise.reject(Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })) : real.writeFileAtomic(path, ...rest),
  };
});

let key: SigningKey;
let trust: JWKS;
let server: FakeControlPlane;
let dir: string;

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
  try {
    return { code: await main(argv), stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

beforeAll(async () => {
  ({ key, jwks: trust } = await newKey());
  server = await new FakeControlPlane(trust).start();
  dir = await mkdtemp(join(tmpdir(), 'palisade-review-cli-'));
});
afterEach(() => failing.clear());
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const enrolled = (name: string) => writeEnrollment(join(dir, name), server.url, { clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credential: CREDENTIAL, jwks: trust });

describe('palisade-agent CLI: files it cannot write', () => {
  it('bundle pull does not report success when the bundle could not be persisted; it names the file, exit 2', async () => {
    const config = await enrolled('pull');
    server.serve(await sign(key, { revision: 3 }), '"r3"');
    failing.add('bundle.jws');
    const pulled = await run('bundle', 'pull', '--config', config);
    expect(pulled.stderr).toContain(join(dir, 'pull', 'state', 'bundle.jws'));
    expect(pulled.code).toBe(2);
  });

  it('trust refresh that cannot save the trust file names it and exits 2 (not 1, "bundle rejected")', async () => {
    const config = await enrolled('trust');
    const other = await newKey();
    server.jwks.keys = [...trust.keys, ...other.jwks.keys]; // a new key is published: the anchor changes
    failing.add('jwks.json');
    try {
      const refreshed = await run('trust', 'refresh', '--config', config);
      expect(refreshed.stderr).toContain(join(dir, 'trust', 'jwks.json'));
      expect(refreshed.stderr).not.toContain('unexpected error');
      expect(refreshed.code).toBe(2);
    } finally {
      server.jwks.keys = trust.keys;
    }
  });

  it('an oversized JWKS answer is a control plane error (exit 3), not a refused bundle (exit 1)', async () => {
    const config = await enrolled('huge');
    const padding = Array.from({ length: 4000 }, (_, i) => ({ kty: 'OKP', crv: 'Ed25519', kid: `pad-${i}`, x: 'A'.repeat(43) }));
    server.jwks.keys = [...trust.keys, ...padding];
    try {
      const refreshed = await run('trust', 'refresh', '--config', config);
      expect(refreshed.stderr).not.toContain('bundle rejected');
      expect(refreshed.stderr).toContain('trust refresh');
      expect(refreshed.code).toBe(3);
    } finally {
      server.jwks.keys = trust.keys;
    }
  });

  it('enroll takes the trust anchor over HTTPS only (plain HTTP just to a loopback address), like trust refresh', async () => {
    const out = join(dir, 'plain');
    const fetched = vi.spyOn(globalThis, 'fetch');
    try {
      const refused = await run('enroll', '--url', 'http://palisade.example.com', '--token', 't', '--out', out);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toMatch(/--url "http:\/\/palisade\.example\.com" is plain HTTP/);
      expect(fetched).not.toHaveBeenCalled(); // the token is not sent in the clear either
    } finally {
      fetched.mockRestore();
    }
  });
});
