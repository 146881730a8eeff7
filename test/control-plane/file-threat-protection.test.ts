import { describe, expect, it } from 'vitest';
import { keyWithRights } from '../support/harness.ts';
import { pointers, PROBLEM, withTenants } from '../support/resource-checks.ts';

const { h, acme, globex, initech } = await withTenants('acme', 'globex', 'initech');

const PATH = '/v1/settings/file-threat-protection';

const DEFAULTS = {
  interceptorMode: 'audit',
  scanMode: 'smart',
  firstAction: 'recommended',
  secondAction: 'blockAccess',
  archiveScanning: 'off',
  mailScanning: false,
  skipObjectsLargerThanMb: 0,
  skipObjectsScanLongerThanSeconds: 60,
  scanOnlyNewAndModified: false,
  heuristicLevel: 'recommended',
  pathExclusions: [],
};

const strict = {
  interceptorMode: 'enforce',
  scanMode: 'openAndModify',
  firstAction: 'disinfect',
  secondAction: 'remove',
  archiveScanning: 'all',
  mailScanning: true,
  skipObjectsLargerThanMb: 512,
  skipObjectsScanLongerThanSeconds: 300,
  scanOnlyNewAndModified: true,
  heuristicLevel: 'deep',
  pathExclusions: ['/proc', '/var/lib/containerd/*'],
};

describe('/v1/settings/file-threat-protection', () => {
  it('starts at the defaults, version 0', async () => {
    const res = await initech.json('GET', PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe('"0"');
    expect(res.body).toEqual({ ...DEFAULTS, updatedAt: null, updatedBy: null });
    // 0 means no size limit; the scan time is capped at 60 seconds unless configured.
    expect(res.body.skipObjectsLargerThanMb).toBe(0);
    expect(res.body.skipObjectsScanLongerThanSeconds).toBe(60);
  });

  it('replaces the settings with PUT and merges with PATCH, under If-Match', async () => {
    const put = await acme.json('PUT', PATH, strict, { 'if-match': '"0"' });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe('"1"');
    expect(put.body).toEqual({ ...strict, updatedAt: expect.any(String), updatedBy: expect.stringMatching(/^apiKey:/) });
    expect(Date.parse(put.body.updatedAt)).not.toBeNaN();

    const got = await acme.json('GET', PATH);
    expect(got.body).toEqual(put.body);
    expect(got.headers.get('etag')).toBe('"1"');

    // PUT replaces: whatever is not sent goes back to its default.
    const replaced = await acme.json('PUT', PATH, { interceptorMode: 'enforce', pathExclusions: ['/tmp'] }, { 'if-match': '"1"' });
    expect(replaced.status).toBe(200);
    expect(replaced.headers.get('etag')).toBe('"2"');
    expect(replaced.body).toEqual({ ...DEFAULTS, interceptorMode: 'enforce', pathExclusions: ['/tmp'], updatedAt: expect.any(String), updatedBy: put.body.updatedBy });

    // PATCH merges; null takes a member back to its default; arrays are replaced.
    const patched = await acme.json(
      'PATCH',
      PATH,
      { scanMode: 'open', interceptorMode: null, pathExclusions: ['/tmp', '/run'], skipObjectsScanLongerThanSeconds: 0 },
      { 'content-type': 'application/merge-patch+json', 'if-match': '"2"' },
    );
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"3"');
    expect(patched.body).toEqual({
      ...DEFAULTS,
      scanMode: 'open',
      pathExclusions: ['/tmp', '/run'],
      // 0 means unlimited and is kept, not replaced by the default.
      skipObjectsScanLongerThanSeconds: 0,
      updatedAt: expect.any(String),
      updatedBy: put.body.updatedBy,
    });

    const withoutIfMatch = await acme.json('PATCH', PATH, { mailScanning: true });
    expect(withoutIfMatch.status).toBe(200);
    expect(withoutIfMatch.headers.get('etag')).toBe('"4"');
    expect(withoutIfMatch.body).toMatchObject({ mailScanning: true, scanMode: 'open', skipObjectsScanLongerThanSeconds: 0 });
  });

  it('answers 412 to a stale If-Match and changes nothing', async () => {
    const before = await globex.json('GET', PATH);
    expect(before.headers.get('etag')).toBe('"0"');
    // Nothing saved yet: only "0" matches.
    const early = await globex.json('PUT', PATH, strict, { 'if-match': '"1"' });
    expect(early.status).toBe(412);
    expect(early.headers.get('content-type')).toBe(PROBLEM);
    expect(early.body.currentEtag).toBe('"0"');
    expect((await globex.json('GET', PATH)).body).toEqual(before.body);

    const saved = await globex.json('PATCH', PATH, { heuristicLevel: 'light' }, { 'if-match': '"0"' });
    expect(saved.status).toBe(200);
    expect(saved.headers.get('etag')).toBe('"1"');

    for (const [method, body] of [['PUT', strict], ['PATCH', { heuristicLevel: 'deep' }]] as const) {
      const stale = await globex.json(method, PATH, body, { 'if-match': '"0"' });
      expect(stale.status, method).toBe(412);
      expect(stale.headers.get('content-type'), method).toBe(PROBLEM);
      expect(stale.body.currentEtag, method).toBe('"1"');
    }
    const after = await globex.json('GET', PATH);
    expect(after.body).toEqual(saved.body);
    expect(after.headers.get('etag')).toBe('"1"');

    const current = await globex.json('PUT', PATH, { heuristicLevel: 'medium' }, { 'if-match': '"5", "1"' });
    expect(current.status).toBe(200);
    expect(current.headers.get('etag')).toBe('"2"');
    expect((await globex.json('PATCH', PATH, { heuristicLevel: 'deep' }, { 'if-match': '*' })).headers.get('etag')).toBe('"3"');
  });

  it('rejects invalid settings with a pointer per field and keeps the old ones', async () => {
    const before = await acme.json('GET', PATH);
    const res = await acme.json('PUT', PATH, {
      interceptorMode: 'block',
      scanMode: 'everything',
      firstAction: 'delete',
      secondAction: 'quarantine',
      archiveScanning: true,
      mailScanning: 'yes',
      skipObjectsLargerThanMb: -1,
      skipObjectsScanLongerThanSeconds: 86_401,
      scanOnlyNewAndModified: 1,
      heuristicLevel: 'max',
      pathExclusions: ['/ok', 'relative/path', '/x'.repeat(2049)],
      enabled: true,
    });
    expect(res.status).toBe(422);
    expect(res.headers.get('content-type')).toBe(PROBLEM);
    expect(res.body.type).toBe('https://palisade.dev/problems/validation-failed');
    expect(pointers(res)).toEqual([
      '/archiveScanning',
      '/enabled',
      '/firstAction',
      '/heuristicLevel',
      '/interceptorMode',
      '/mailScanning',
      '/pathExclusions/1',
      '/pathExclusions/2',
      '/scanMode',
      '/scanOnlyNewAndModified',
      '/secondAction',
      '/skipObjectsLargerThanMb',
      '/skipObjectsScanLongerThanSeconds',
    ]);
    expect(res.body.errors.find((e: { pointer: string }) => e.pointer === '/enabled').detail).toBe('unknown field');

    for (const [body, expected] of [
      [{ skipObjectsScanLongerThanSeconds: 1.5 }, ['/skipObjectsScanLongerThanSeconds']],
      [{ skipObjectsScanLongerThanSeconds: -1 }, ['/skipObjectsScanLongerThanSeconds']],
      [{ skipObjectsScanLongerThanSeconds: '60' }, ['/skipObjectsScanLongerThanSeconds']],
      [{ skipObjectsLargerThanMb: 1_048_577 }, ['/skipObjectsLargerThanMb']],
      [{ pathExclusions: '/tmp' }, ['/pathExclusions']],
      [{ pathExclusions: Array.from({ length: 1001 }, (_, i) => `/p${i}`) }, ['/pathExclusions']],
    ] as const) {
      for (const method of ['PUT', 'PATCH']) {
        const bad = await acme.json(method, PATH, body);
        expect(bad.status, `${method} ${JSON.stringify(body).slice(0, 60)}`).toBe(422);
        expect(pointers(bad), `${method} ${JSON.stringify(body).slice(0, 60)}`).toEqual(expected);
      }
    }
    const unchanged = await acme.json('GET', PATH);
    expect(unchanged.body).toEqual(before.body);
    expect(unchanged.headers.get('etag')).toBe(before.headers.get('etag'));

    const boundaries = await acme.json('PATCH', PATH, { skipObjectsScanLongerThanSeconds: 86_400, skipObjectsLargerThanMb: 1_048_576 });
    expect(boundaries.status).toBe(200);
    const restored = await acme.json('PUT', PATH, { ...before.body, updatedAt: undefined, updatedBy: undefined });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ ...before.body, updatedAt: expect.any(String) });

    const readOnly = await acme.json('PATCH', PATH, { updatedBy: 'someone' });
    expect(readOnly.status).toBe(422);
    expect(pointers(readOnly)).toEqual(['/updatedBy']);
    expect((await acme.json('PUT', PATH, '{"interceptorMode": ')).status).toBe(400);
    expect((await acme.json('PATCH', PATH, '[]', { 'content-type': 'application/json-patch+json' })).status).toBe(415);
  });

  it('allows GET, PUT and PATCH only', async () => {
    for (const method of ['POST', 'DELETE']) {
      const res = await acme.json(method, PATH, method === 'POST' ? strict : undefined);
      expect(res.status, method).toBe(405);
      expect(res.headers.get('content-type'), method).toBe(PROBLEM);
      expect(res.headers.get('allow')?.split(', ').sort(), method).toEqual(['GET', 'HEAD', 'PATCH', 'PUT']);
    }
  });

  it('needs fileThreatProtection.manage to change the settings; fileThreatProtection.view reads them', async () => {
    const before = await acme.json('GET', PATH);
    const viewer = h.as(acme, await keyWithRights(acme, ['fileThreatProtection.view']));
    const read = await viewer.json('GET', PATH);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(before.body);
    expect(read.headers.get('etag')).toBe(before.headers.get('etag'));
    for (const method of ['PUT', 'PATCH']) {
      const res = await viewer.json(method, PATH, { interceptorMode: 'enforce' }, { 'if-match': before.headers.get('etag')! });
      expect(res.status, method).toBe(403);
      expect(res.headers.get('content-type'), method).toBe(PROBLEM);
      expect(res.body.missingRights, method).toEqual(['fileThreatProtection.manage']);
    }

    const outsider = h.as(acme, await keyWithRights(acme, ['runtimeProfiles.view', 'runtimeProfiles.manage']));
    const denied = await outsider.json('GET', PATH);
    expect(denied.status).toBe(403);
    expect(denied.body.missingRights).toEqual(['fileThreatProtection.view']);
    expect((await outsider.json('PUT', PATH, strict)).status).toBe(403);

    const manager = h.as(acme, await keyWithRights(acme, ['fileThreatProtection.view', 'fileThreatProtection.manage']));
    const changed = await manager.json('PATCH', PATH, { mailScanning: !before.body.mailScanning }, { 'if-match': before.headers.get('etag')! });
    expect(changed.status).toBe(200);
    expect(changed.body.updatedBy).not.toBe(before.body.updatedBy);

    const after = await acme.json('GET', PATH);
    expect(after.body).toEqual(changed.body);
  });

  it('keeps every tenant’s settings apart', async () => {
    const a = await acme.json('PUT', PATH, { ...strict, pathExclusions: ['/acme-only'] });
    expect(a.status).toBe(200);
    const aEtag = a.headers.get('etag')!;

    const fresh = await h.tenant('hooli');
    const seen = await fresh.json('GET', PATH);
    expect(seen.body).toEqual({ ...DEFAULTS, updatedAt: null, updatedBy: null });
    expect(seen.headers.get('etag')).toBe('"0"');

    // acme's ETag means nothing to another tenant.
    expect((await fresh.json('PUT', PATH, strict, { 'if-match': aEtag })).status).toBe(412);
    const own = await fresh.json('PATCH', PATH, { interceptorMode: 'enforce', pathExclusions: ['/hooli'] }, { 'if-match': '"0"' });
    expect(own.status).toBe(200);
    expect(own.headers.get('etag')).toBe('"1"');
    expect(own.body).toEqual({ ...DEFAULTS, interceptorMode: 'enforce', pathExclusions: ['/hooli'], updatedAt: expect.any(String), updatedBy: expect.any(String) });

    const acmeAfter = await acme.json('GET', PATH);
    expect(acmeAfter.body).toEqual(a.body);
    expect(acmeAfter.headers.get('etag')).toBe(aEtag);
    expect((await fresh.json('GET', PATH)).body.pathExclusions).toEqual(['/hooli']);
    expect((await initech.json('GET', PATH)).body).toEqual({ ...DEFAULTS, updatedAt: null, updatedBy: null });
  });
});
