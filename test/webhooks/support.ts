import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import { uuidv7 } from '../../workers/ids.ts';
import type { DispatchDeps } from '../../workers/webhooks/dispatcher.ts';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver answered. */
  status: number;
}

export type Responder = (req: { headers: IncomingHttpHeaders; body: string; index: number }) => { status: number; headers?: Record<string, string>; body?: string } | 'hang';

/** A webhook receiver on 127.0.0.1, as a tenant would run one: records every request and answers as told. */
export interface Receiver {
  url: string;
  received: Received[];
  respond: Responder;
  /** Stops listening (connections are refused) / listens again on the same port. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startReceiver(respond: Responder = () => ({ status: 204 })): Promise<Receiver> {
  const received: Received[] = [];
  const hanging = new Set<() => void>();
  let server: Server;
  let port = 0;
  const receiver: Receiver = {
    url: '',
    received,
    respond,
    async down() {
      for (const release of hanging) release();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    async up() {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          const answer = receiver.respond({ headers: req.headers, body, index: received.length });
          if (answer === 'hang') {
            received.push({ headers: req.headers, body, status: 0 });
            hanging.add(() => res.destroy());
            return;
          }
          received.push({ headers: req.headers, body, status: answer.status });
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body ?? '');
        });
      });
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      receiver.url = `http://127.0.0.1:${port}/hooks/palisade`;
    },
    close: () => receiver.down(),
  };
  await receiver.up();
  return receiver;
}

/** A clock the test moves by hand, starting at the real time (receivers check timestamps against theirs). */
export function testClock(start = new Date()) {
  let at = start.getTime();
  return {
    now: () => new Date(at),
    advance(ms: number) {
      at += ms;
    },
    set(to: Date) {
      at = to.getTime();
    },
  };
}

/** Dispatcher dependencies for tests: real fetch to the local receiver, an injected clock, resolver and randomness. */
export function testDeps(clock: { now: () => Date }, overrides: Partial<DispatchDeps> = {}): DispatchDeps {
  return {
    fetch: (input, init) => fetch(input, init),
    now: clock.now,
    resolve: async (host) => (host === 'localhost' ? ['127.0.0.1'] : Promise.reject(new Error(`ENOTFOUND ${host}`))),
    random: () => 0.5,
    allowLoopback: true,
    timeoutMs: 2000,
    ...overrides,
  };
}

/**
 * `new Webhook(secret).verify(body, headers)` from the `standardwebhooks` package, as a receiver would run it at the
 * moment of the delivery: the test's clock may be hours ahead of the real one, so the receiver's clock is set to
 * the delivery's own timestamp (the package checks it against `Date.now()` with a 5 minute tolerance).
 */
export function verifyAsReceiver(secret: string, received: Pick<Received, 'headers' | 'body'>): unknown {
  const headers = Object.fromEntries(Object.entries(received.headers).map(([k, v]) => [k, String(v)]));
  vi.useFakeTimers({ toFake: ['Date'], now: Number(headers['webhook-timestamp']) * 1000 });
  try {
    return new Webhook(secret).verify(received.body, headers);
  } finally {
    vi.useRealTimers();
  }
}

export const POLICY_A = '0190f0a0-0000-7000-8000-00000000000a';

/** A valid audit event; `overrides` replace members. */
export function event(overrides: Partial<AuditEventV1> = {}, at = new Date()): AuditEventV1 {
  return {
    id: uuidv7(at.getTime()),
    time: at.toISOString(),
    kind: 'admission',
    verdict: 'blocked',
    mode: 'enforce',
    policy: { id: POLICY_A, name: 'baseline', revision: 1 },
    bundleRevision: 1,
    checks: [{ id: 'registriesAllowed', message: 'registry not allowed', severity: 'high' }],
    workload: { namespace: 'shop', kind: 'Deployment', name: 'web' },
    severity: 'high',
    ...overrides,
  };
}
