import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isUsablePublicKey } from '../../../schema/signature-validators.ts';
import { loadPublicKey } from '../../src/signatures/keys.ts';
import { parseStrictJson } from '../../src/signatures/strict-json.ts';
import { parseChallenge, parseDockerConfig } from '../../src/oci/auth.ts';

const DERIVED = join(import.meta.dirname, '../../../../shared/fixtures/cosign/derived');

describe('cosign keys and formats', () => {
  it.each(['sigstore-encrypted.pub', 'cosign-rsa-encrypted.pub', 'cosign-ec-sec1-encrypted.pub'])('takes the public key of cosign fixture %s as a validator key', async (file) => {
    const pem = readFileSync(join(DERIVED, file), 'utf8');
    expect(await isUsablePublicKey(pem)).toBe(true);
    expect(loadPublicKey(pem).asymmetricKeyType).toBe('ec');
  });

  it('parses JSON strictly: keys folded, duplicates refused, trailing data refused', () => {
    expect(parseStrictJson('{"A":{"b":[1,"x",null,true]}}')).toEqual({ a: { b: [1, 'x', null, true] } });
    expect(() => parseStrictJson('{"a":1,"A":2}')).toThrow(/duplicate key "a"/);
    expect(() => parseStrictJson('{"a":1} x')).toThrow(/trailing/);
    expect(() => parseStrictJson('['.repeat(100))).toThrow(/deeply/);
  });

  it('reads WWW-Authenticate challenges and .dockerconfigjson credentials', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"')).toEqual({
      scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
    });
    const creds = parseDockerConfig(JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('u:p:w').toString('base64') }, 'ghcr.io': { username: 'x', password: 'y' } } }));
    expect(creds.get('docker.io')).toEqual({ username: 'u', password: 'p:w' });
    expect(creds.get('ghcr.io')).toEqual({ username: 'x', password: 'y' });
    expect(() => parseDockerConfig('{"auths":{"h":{"auth":"bm9jb2xvbg=="}}}')).toThrow(/not base64 of "user:password"/);
  });
});
