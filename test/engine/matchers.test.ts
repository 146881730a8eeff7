import { describe, expect, it } from 'vitest';
import { normalizeHostPath, pathWithin, registryAllows } from '../../agent-sdk/src/engine/index.ts';
import { capabilityName } from '../../agent-sdk/src/engine/checks/capabilities-block.ts';
import { parseImageReference } from '../../schema/image-reference.ts';

describe('host paths', () => {
  it.each([
    ['/etc', '/etc'],
    ['/etc/', '/etc'],
    ['//etc//ssh/', '/etc/ssh'],
    ['/etc/./ssh', '/etc/ssh'],
    ['/etc/../etc/ssh', '/etc/ssh'],
    ['/../../etc', '/etc'],
    ['/', '/'],
    ['', '/'],
    ['etc/ssh', '/etc/ssh'],
  ])('%s normalizes to %s', (raw, normalized) => expect(normalizeHostPath(raw)).toBe(normalized));

  it.each([
    ['/etc', '/etc', true],
    ['/etc/ssh', '/etc', true],
    ['/etcd', '/etc', false],
    ['/etc', '/etc/ssh', false],
    ['/anything', '/', true],
  ])('%s within %s: %s', (path, dir, expected) => expect(pathWithin(path, dir)).toBe(expected));
});

describe('allowed registries', () => {
  const allows = (entry: string, image: string) => registryAllows(entry, parseImageReference(image));
  it.each([
    ['docker.io', 'ubuntu:focal', true],
    ['index.docker.io', 'docker.io/library/ubuntu', true],
    ['docker.io/library', 'index.docker.io/library/ubuntu:focal', true],
    ['registry.example.com', 'registry.example.com/a/b:1', true],
    ['REGISTRY.example.com', 'registry.example.com/a:1', true],
    ['registry.example.com', 'registry.example.com.evil.io/a:1', false],
    ['registry.example.com', 'registry.example.community/a:1', false],
    ['registry.example.com', 'registry.example.com:5000/a:1', false],
    ['registry.example.com:5000', 'registry.example.com:5000/a:1', true],
    ['registry.example.com:5000', 'registry.example.com/a:1', false],
    ['ghcr.io/acme', 'ghcr.io/acme/x', true],
    ['ghcr.io/acme', 'ghcr.io/acme', true],
    ['ghcr.io/acme', 'ghcr.io/acmeevil/x', false],
    ['ghcr.io/acme/team', 'ghcr.io/acme/x', false],
    ['docker.io/ubuntu', 'ubuntu', true],
    ['docker.io/ubuntu', 'ubuntu/squid', true],
    ['docker.io/ubuntu', 'ubuntu-evil', false],
    ['docker.io/library/ubuntu', `ubuntu:22.04@sha256:${'b'.repeat(64)}`, true],
  ])('%s admits %s: %s', (entry, image, expected) => expect(allows(entry, image)).toBe(expected));
});

describe('capability names', () => {
  it.each([
    ['NET_ADMIN', 'NET_ADMIN'],
    ['net_admin', 'NET_ADMIN'],
    ['CAP_NET_ADMIN', 'NET_ADMIN'],
    ['cap_net_admin', 'NET_ADMIN'],
    [' all ', 'ALL'],
    ['cap_not_a_cap', 'NOT_A_CAP'],
  ])('%s reads as %s', (raw, name) => expect(capabilityName(raw)).toBe(name));
});
