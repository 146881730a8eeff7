import type { AuditEventV1, AuditVerdict } from '../../../schema/audit-event.ts';

/** A deterministic, valid UUIDv7 for event number `i` (the test knows every id it will produce). */
export function eventId(i: number, prefix = '01900000'): string {
  return `${prefix}-0000-7000-8000-${i.toString(16).padStart(12, '0')}`;
}

/** A valid admission event numbered `i`: `blocked` (Enforce mode) or `alerted` (Audit mode). */
export function testEvent(i: number, verdict: AuditVerdict = 'blocked', extra: Partial<AuditEventV1> = {}): AuditEventV1 {
  return {
    id: eventId(i),
    time: new Date().toISOString(),
    kind: 'admission',
    verdict,
    mode: verdict === 'blocked' ? 'enforce' : 'audit',
    policy: { id: '0190f0a0-0000-7000-8000-000000000001', name: 'baseline', revision: 1 },
    bundleRevision: 1,
    checks: [{ id: 'registriesAllowed', message: `event ${i}`, severity: 'high' }],
    workload: { namespace: 'shop', kind: 'Deployment', name: `web-${i}`, container: 'app', image: 'docker.io/library/nginx:1.27' },
    severity: 'high',
    ...extra,
  };
}

/** The event numbers of NDJSON lines (as the spool returns them or the server receives them). */
export const numbersOf = (lines: readonly string[]): number[] => lines.map((l) => Number.parseInt((JSON.parse(l) as { id: string }).id.slice(-12), 16));

export const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);
