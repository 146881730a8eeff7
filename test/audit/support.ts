import { gzipSync } from 'node:zlib';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { uuidv7 } from '../../workers/ids.ts';
import type { Harness } from '../support/harness.ts';

export const POLICY_ID = '0190f0a0-0000-7000-8000-000000000001';

/** A valid blocked admission event at `time`, with one check; `overrides` replace members. */
export function auditEvent(time: string | Date = new Date(), overrides: Partial<AuditEventV1> = {}): AuditEventV1 {
  const at = typeof time === 'string' ? time : time.toISOString();
  return {
    id: uuidv7(Date.parse(at)),
    time: at,
    kind: 'admission',
    verdict: 'blocked',
    mode: 'enforce',
    policy: { id: POLICY_ID, name: 'baseline', revision: 3 },
    bundleRevision: 7,
    checks: [{ id: 'registriesAllowed', message: 'registry not allowed', severity: 'high' }],
    workload: { namespace: 'shop', kind: 'Deployment', name: 'web', container: 'app', image: 'docker.io/library/nginx:1.27' },
    severity: 'high',
    ...overrides,
  };
}

export interface SendOptions {
  format?: 'json' | 'ndjson';
  gzip?: boolean;
  headers?: Record<string, string>;
}

/** The body of a batch as an agent would send it. */
export function batchBody(events: readonly unknown[], options: SendOptions = {}): { body: BodyInit; headers: Record<string, string> } {
  const text = options.format === 'ndjson' ? events.map((e) => JSON.stringify(e)).join('\n') + '\n' : JSON.stringify(events);
  const headers: Record<string, string> = { 'content-type': options.format === 'ndjson' ? 'application/x-ndjson' : 'application/json', ...options.headers };
  if (!options.gzip) return { body: text, headers };
  return { body: new Uint8Array(gzipSync(text)), headers: { ...headers, 'content-encoding': 'gzip' } };
}

/** POST /v1/agent/events with a cluster credential; answers status, headers and parsed body. */
export async function sendEvents(h: Harness, credential: string, events: readonly unknown[], options: SendOptions = {}) {
  const { body, headers } = batchBody(events, options);
  const res = await h.app.request('/v1/agent/events', { method: 'POST', headers: { authorization: `Bearer ${credential}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

/** Raw POST, for bodies the helpers above would not produce. */
export async function postRaw(h: Harness, credential: string, body: BodyInit, headers: Record<string, string>) {
  const res = await h.app.request('/v1/agent/events', { method: 'POST', headers: { authorization: `Bearer ${credential}`, ...headers }, body });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

export { prng } from '../support/prng.ts';
