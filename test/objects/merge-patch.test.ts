import { describe, expect, it } from 'vitest';
import { applyMergePatch } from '../../workers/objects/merge-patch.ts';
import { mustCreate, twoTenants } from '../support/resource-checks.ts';

const { acme } = await twoTenants();
const MERGE = { 'content-type': 'application/merge-patch+json' };

describe('JSON merge patch and prototype keys', () => {
  it('treats __proto__, constructor and prototype as plain member names: never the prototype, never inherited values', () => {
    const patched = applyMergePatch({ a: 1 }, JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"x": 1}, "prototype": 2}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(patched)).toBe(Object.prototype);
    expect(patched.polluted).toBeUndefined();
    expect(Object.keys(patched).sort()).toEqual(['__proto__', 'a', 'constructor', 'prototype']);
    expect(patched.constructor).toEqual({ x: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // Removing a member that is only inherited removes nothing and adds nothing.
    expect(Object.keys(applyMergePatch({ a: 1 }, JSON.parse('{"constructor": null, "toString": null}')) as object)).toEqual(['a']);
  });

  it('refuses such members on a policy with a pointer (422), and never takes a value from them', async () => {
    const scope = await mustCreate(acme, '/v1/scopes', { name: 'prod', resources: [{ type: 'cluster', cluster: 'prod-*' }] });
    const policy = await mustCreate(acme, '/v1/runtime-policies', { name: 'p', mode: 'audit', scopeIds: [scope.body.id] });
    const path = `/v1/runtime-policies/${policy.body.id}`;
    for (const body of ['{"__proto__": {"description": "injected", "mode": "enforce"}}', '{"constructor": {"description": "injected"}}']) {
      const res = await acme.json('PATCH', path, body, MERGE);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toEqual([`/${Object.keys(JSON.parse(body))[0]}`]);
    }
    const put = await acme.json('PUT', path, `{"name": "p", "mode": "audit", "scopeIds": ["${scope.body.id}"], "__proto__": {"description": "injected"}}`);
    expect(put.status).toBe(422);
    const after = await acme.json('GET', path);
    expect(after.body).toMatchObject({ mode: 'audit', revision: 1 });
    expect(after.body).not.toHaveProperty('description');
  });
});
