import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { JWKS, StatusDocument } from '../../src/index.ts';
import { CLUSTER, ISSUER, TENANT } from './bundles.ts';

export const TOKEN = 'enroll-token-1';
export const CREDENTIAL = 'agent-credential-1';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in for the control plane's agent API on 127.0.0.1, following the HTTP contract of issue #3. */
export class FakeControlPlane {
  url = '';
  bundle: { jws: string; etag: string } | null = null;
  /** Replaces the bundle endpoint's answer while set (errors, hangs, broken bodies). */
  bundleHandler: Handler | null = null;
  gzip = true;
  readonly requests: Array<{ method: string; path: string; url: string; headers: IncomingMessage['headers'] }> = [];
  readonly statuses: StatusDocument[] = [];
  /** Audit events received on `POST /v1/agent/events` (NDJSON lines, parsed), each acknowledged as accepted. */
  readonly events: Array<Record<string, unknown>> = [];
  private readonly server = createServer((req, res) => void this.handle(req, res));

  constructor(readonly jwks: JWKS) {}

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  serve(jws: string, etag = `"${this.requests.length}-${jws.length}"`): void {
    this.bundle = { jws, etag };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    this.requests.push({ method: req.method ?? '', path, url: req.url ?? '', headers: req.headers });
    const raw = await read(req);
    const body = raw.toString();
    if (req.method === 'POST' && path === '/v1/agent/enroll') {
      if ((JSON.parse(body) as { token?: string }).token !== TOKEN) return problem(res, 401, 'Unauthorized', 'unknown or used enrollment token');
      return json(res, 201, { clusterId: CLUSTER, tenantId: TENANT, issuer: ISSUER, credential: CREDENTIAL, jwks: this.jwks });
    }
    if (req.method === 'GET' && path === '/.well-known/jwks.json') return json(res, 200, this.jwks);
    if (req.headers.authorization !== `Bearer ${CREDENTIAL}`) return problem(res, 401, 'Unauthorized', 'bad agent credential');
    if (req.method === 'POST' && path === '/v1/agent/status') {
      this.statuses.push(JSON.parse(body) as StatusDocument);
      return void res.writeHead(204).end();
    }
    if (req.method === 'POST' && path === '/v1/agent/events') {
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const lines = text.split('\n').filter((l) => l !== '');
      this.events.push(...lines.map((l) => JSON.parse(l) as Record<string, unknown>));
      return json(res, 202, { accepted: lines.length, duplicates: 0, rejected: [] });
    }
    if (req.method === 'GET' && path === '/v1/agent/bundle') {
      if (this.bundleHandler) return this.bundleHandler(req, res);
      if (this.bundle === null) return problem(res, 404, 'Not Found', 'no bundle compiled yet');
      if (req.headers['if-none-match'] === this.bundle.etag) return void res.writeHead(304, { etag: this.bundle.etag }).end();
      const gzip = this.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding']));
      const bytes = gzip ? gzipSync(this.bundle.jws) : Buffer.from(this.bundle.jws);
      res.writeHead(200, { 'content-type': 'application/jose', etag: this.bundle.etag, 'content-length': bytes.length, ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
      return void res.end(bytes);
    }
    problem(res, 404, 'Not Found');
  }
}

export function problem(res: ServerResponse, status: number, title: string, detail?: string): void {
  json(res, status, { type: 'about:blank', title, status, ...(detail ? { detail } : {}) }, 'application/problem+json');
}

function json(res: ServerResponse, status: number, value: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(value));
}

function read(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
  });
}
