import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../schema/image-reference.ts';
import { compileImageTemplate, matchesImageTemplate } from '../../schema/image-template.ts';

const D1 = `sha256:${'a'.repeat(64)}`;

describe('image URL templates', () => {
  it.each([
    ['nginx', 'nginx', true],
    ['nginx', 'docker.io/library/nginx:1.25', true],
    ['nginx', `nginx@${D1}`, true],
    ['nginx', 'ghcr.io/nginx', false],
    ['docker.io/library/nginx:*', 'nginx:1.25', true],
    ['docker.io/library/nginx:*', 'nginx', true],
    ['docker.io/library/nginx:*', `nginx@${D1}`, false],
    ['nginx:latest', 'nginx', true],
    ['nginx:1.*', 'nginx:1.25.3', true],
    ['nginx:1.*', 'nginx:2.0', false],
    [`nginx@${D1}`, `nginx:1.25@${D1}`, true],
    [`nginx@${D1}`, 'nginx:1.25', false],
    ['index.docker.io/nginx', 'docker.io/library/nginx:1', true],
    ['ghcr.io/acme/*', 'ghcr.io/acme/web:1', true],
    ['ghcr.io/acme/*', 'ghcr.io/acme/team/web:1', false],
    ['ghcr.io/acme/**', 'ghcr.io/acme/team/web:1', true],
    ['ghcr.io/acme/**', 'ghcr.io/acmeevil/web:1', false],
    ['ghcr.io/**/web', 'ghcr.io/web', true],
    ['ghcr.io/**/web', 'ghcr.io/a/b/web', true],
    ['ghcr.io/**/web', 'ghcr.io/a/b/webby', false],
    ['**', 'quay.io/anything/at/all:v1', true],
    ['**/nginx', 'nginx', true],
    ['**/nginx', 'registry.example.com:5000/team/nginx:1', true],
    ['*/nginx', 'bitnami/nginx', true],
    ['*/nginx', 'nginx', true],
    ['*/nginx', 'ghcr.io/nginx', false],
    ['*.example.com/app', 'registry.example.com/app:1', true],
    ['*.example.com/app', 'registry.example.com.evil.io/app:1', false],
    ['localhost:5000/app', 'localhost:5000/app:dev', true],
    ['localhost:5000/app', 'localhost/app:dev', false],
    ['Registry.Example.com/app', 'registry.example.com/app', true],
    ['ghcr.io/acme/web', 'ghcr.io/acme/web-x', false],
    ['ghcr.io/acme/w?b', 'ghcr.io/acme/wab', false],
    ['', 'nginx', false],
    ['nginx', 'Not A Reference', false],
  ])('%s matches %s: %s', (template, image, expected) => {
    expect(matchesImageTemplate(template, image)).toBe(expected);
  });

  it('normalizes templates like references', () => {
    expect(compileImageTemplate('nginx')?.normalized).toBe('docker.io/library/nginx');
    expect(compileImageTemplate('index.docker.io/nginx:1.*')?.normalized).toBe('docker.io/library/nginx:1.*');
    expect(compileImageTemplate('*/nginx')?.normalized).toBe('docker.io/*/nginx');
    expect(compileImageTemplate('**/nginx')?.normalized).toBe('**/nginx');
    expect(compileImageTemplate('docker.io/**')?.normalized).toBe('docker.io/**');
    expect(compileImageTemplate(' a b ')).toBeUndefined();
  });
});

// Arbitrary references in every spelling the normalizer accepts.
const component = fc.stringMatching(/^[a-z0-9]{1,6}(?:[._-][a-z0-9]{1,4})?$/);
const registry = fc.constantFrom('', 'docker.io/', 'index.docker.io/', 'ghcr.io/', 'localhost:5000/', 'Registry.Example.com:443/', 'quay.io/');
const path = fc.array(component, { minLength: 1, maxLength: 4 }).map((c) => c.join('/'));
const tag = fc.option(fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,10}$/), { nil: undefined });
const digest = fc.option(fc.stringMatching(/^[a-f0-9]{64}$/).map((h) => `sha256:${h}`), { nil: undefined });
const reference = fc.tuple(registry, path, tag, digest).map(([r, p, t, d]) => `${r}${p}${t ? `:${t}` : ''}${d ? `@${d}` : ''}`);

describe('normalizer and templates, properties', () => {
  it('normalization is idempotent', () => {
    fc.assert(fc.property(reference, (ref) => parseImageReference(parseImageReference(ref).canonical).canonical === parseImageReference(ref).canonical));
  });

  it('the three Docker Hub spellings normalize equal', () => {
    fc.assert(
      fc.property(component, tag, (name, t) => {
        const suffix = t ? `:${t}` : '';
        const forms = [`${name}${suffix}`, `docker.io/library/${name}${suffix}`, `index.docker.io/library/${name}${suffix}`].map((r) => parseImageReference(r).canonical);
        return forms.every((f) => f === forms[0]);
      }),
    );
  });

  it('a template equal to a canonical reference matches it, and any spelling of it', () => {
    fc.assert(fc.property(reference, (ref) => matchesImageTemplate(parseImageReference(ref).canonical, ref)));
  });

  it('a template of the repository name alone matches every tag and digest of it; ** matches everything', () => {
    fc.assert(fc.property(reference, (ref) => matchesImageTemplate(parseImageReference(ref).name, ref) && matchesImageTemplate('**', ref)));
  });

  it('replacing one path segment of the name by * still matches; another repository does not', () => {
    fc.assert(
      fc.property(reference, fc.nat(), (ref, pick) => {
        const { registry: host, repository } = parseImageReference(ref);
        const segs = repository.split('/');
        segs[pick % segs.length] = '*';
        return matchesImageTemplate(`${host}/${segs.join('/')}`, ref) && !matchesImageTemplate(`${host}/${repository}x`, ref);
      }),
    );
  });
});
