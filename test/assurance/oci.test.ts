import { describe, expect, it } from 'vitest';
import { indexChildren, isIndexMediaType, MANIFEST_ACCEPT, nextLink, parseChallenges, parseDigest } from '../../schema/oci.ts';

describe('schema/oci.ts: OCI distribution wire details', () => {
  it('parses Bearer and Basic challenges as registries send them', () => {
    expect(parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/nginx:pull' } },
    ]);
    expect(parseChallenges('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
    expect(parseChallenges('Basic realm=x, Bearer realm="a\\"b", error="invalid_token"')).toEqual([
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'a"b', error: 'invalid_token' } },
    ]);
    expect(parseChallenges(undefined)).toEqual([]);
  });

  it('follows rel="next" Link headers relative to the request', () => {
    expect(nextLink('</v2/_catalog?last=b&n=2>; rel="next"', 'http://127.0.0.1:5000/v2/_catalog?n=2')?.href).toBe('http://127.0.0.1:5000/v2/_catalog?last=b&n=2');
    expect(nextLink('<https://r.example/v2/x/tags/list?n=1&last=a>; rel=next', 'https://r.example/v2/x/tags/list')?.href).toBe('https://r.example/v2/x/tags/list?n=1&last=a');
    expect(nextLink('</a>; rel="prev"', 'https://r.example/')).toBeUndefined();
    expect(nextLink(null, 'https://r.example/')).toBeUndefined();
  });

  it('reads sha256 digests only, indexes and their platform manifests', () => {
    expect(parseDigest(`sha256:${'a'.repeat(64)}`)).toBe(`sha256:${'a'.repeat(64)}`);
    expect(parseDigest('sha512:abc')).toBeUndefined();
    expect(parseDigest(`sha256:${'A'.repeat(64)}`)).toBeUndefined();
    expect(MANIFEST_ACCEPT.split(', ')).toHaveLength(4);
    expect(isIndexMediaType('application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8')).toBe(true);
    const d = (c: string) => `sha256:${c.repeat(64)}`;
    expect(
      indexChildren({
        manifests: [
          { digest: d('1'), platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
          { digest: d('2'), platform: { os: 'unknown', architecture: 'unknown' } },
          { digest: 'sha256:bad' },
        ],
      }),
    ).toEqual([{ digest: d('1'), platform: { os: 'linux', architecture: 'arm', variant: 'v7' } }]);
  });
});
