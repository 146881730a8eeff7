import { describe, expect, it } from 'vitest';
import { AuditAggregator } from '../../agent-sdk/src/engine/index.ts';
import { AuditEventV1 } from '../../schema/audit-event.ts';

let n = 0;
const newId = () => `01900000-0000-7000-8000-${String(++n).padStart(12, '0')}`;
const P = { id: '0190f0a0-0000-7000-8000-00000000000a', name: 'p', revision: 1 };
function denial(workload: string, at: number, check = 'limitContainerPrivileges.privileged', pod = `${workload}-${at}`): AuditEventV1 {
  return {
    id: newId(), time: new Date(at).toISOString(), kind: 'admission', verdict: 'blocked', mode: 'enforce', bundleRevision: 1, severity: 'high',
    checks: [{ id: check, message: 'container "app" is privileged', severity: 'high', policy: P, mode: 'enforce', container: 'app' }],
    workload: { namespace: 'shop', kind: 'ReplicaSet', name: workload, pod },
  };
}
const T0 = Date.parse('2026-06-01T12:00:00Z');

describe('AuditAggregator', () => {
  it('reports the first denial at once and the identical repeats of its window as one event with a count', () => {
    const agg = new AuditAggregator({ windowMs: 10_000, newId });
    const first = denial('web', T0);
    expect(agg.offer([first], T0)).toEqual([first]);
    for (let i = 1; i <= 5; i++) expect(agg.offer([denial('web', T0 + i * 1000)], T0 + i * 1000)).toEqual([]); // other pod names: same workload
    expect(agg.due(T0 + 9_999)).toEqual([]);
    const [aggregate, ...rest] = agg.due(T0 + 10_000);
    expect(rest).toEqual([]);
    expect(AuditEventV1.safeParse(aggregate).success).toBe(true);
    expect(aggregate).toMatchObject({ count: 5, firstSeen: new Date(T0 + 1000).toISOString(), lastSeen: new Date(T0 + 5000).toISOString(), time: new Date(T0 + 5000).toISOString(), checks: first.checks });
    expect(aggregate!.id).not.toBe(first.id);
    // The window is closed: the next one opens anew.
    const again = denial('web', T0 + 11_000);
    expect(agg.offer([again], T0 + 11_000)).toEqual([again]);
  });

  it('keeps different workloads and different findings apart, and passes everything through with a window of 0', () => {
    const agg = new AuditAggregator({ windowMs: 10_000, newId });
    const a = denial('web', T0);
    const b = denial('db', T0);
    const c = denial('web', T0, 'limitContainerPrivileges.hostPID');
    expect(agg.offer([a, b, c], T0)).toEqual([a, b, c]);
    expect(agg.openWindows).toBe(3);
    const off = new AuditAggregator({ windowMs: 0, newId });
    const same = [denial('web', T0), denial('web', T0)];
    expect(off.offer(same, T0)).toEqual(same);
  });

  it('flushes ended windows on the next offer, drains the open ones, and stays bounded', () => {
    const agg = new AuditAggregator({ windowMs: 1000, newId, maxOpen: 2 });
    agg.offer([denial('a', T0), denial('a', T0)], T0);
    const out = agg.offer([denial('b', T0 + 2000)], T0 + 2000);
    expect(out.map((e) => [e.workload?.name, e.count])).toEqual([['a', 1], ['b', undefined]]);
    agg.offer([denial('c', T0 + 2000), denial('d', T0 + 2000), denial('d', T0 + 2000)], T0 + 2000);
    expect(agg.openWindows).toBe(2); // d passed through: both of its denials reported on their own
    agg.offer([denial('b', T0 + 2100)], T0 + 2100);
    expect(agg.drain().map((e) => [e.workload?.name, e.count])).toEqual([['b', 1]]);
    expect(agg.openWindows).toBe(0);
  });
});
