import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }; [k: string]: unknown };

/**
 * A small in-process stand-in for the Kubernetes API server, enough for the node agent: pods (list with a
 * `spec.nodeName` field selector, and watch, streamed as JSON lines) and `cilium.io/v1alpha1`
 * `tracingpoliciesnamespaced` (list across namespaces with a label selector, create, replace with resourceVersion
 * conflicts, delete). Not a real API server: no admission, no CRD schema validation (tests validate with ajv).
 */
export class FakeKube {
  readonly policies = new Map<string, Obj>();
  readonly pods = new Map<string, Obj>();
  readonly requests: string[] = [];
  #rv = 1;
  #watchers: Array<{ res: ServerResponse; node: string }> = [];
  #server: Server | undefined;

  async start(): Promise<KubeConfig> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((r) => this.#server!.listen(0, '127.0.0.1', r));
    const { port } = this.#server.address() as AddressInfo;
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'agent', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'agent' }],
      currentContext: 'fake',
    });
    return kc;
  }

  async stop(): Promise<void> {
    for (const w of this.#watchers) w.res.end();
    this.#server?.closeAllConnections();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
  }

  /** Adds or changes a pod and tells the watchers. */
  setPod(pod: Obj & { spec: { nodeName: string } }): void {
    const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const type = this.pods.has(key) ? 'MODIFIED' : 'ADDED';
    const stored = { ...pod, metadata: { ...pod.metadata, resourceVersion: String(++this.#rv) } };
    this.pods.set(key, stored);
    this.#notify(type, stored);
  }

  deletePod(namespace: string, name: string): void {
    const pod = this.pods.get(`${namespace}/${name}`);
    if (!pod) return;
    this.pods.delete(`${namespace}/${name}`);
    this.#notify('DELETED', { ...pod, metadata: { ...pod.metadata, resourceVersion: String(++this.#rv) } });
  }

  #notify(type: string, pod: Obj): void {
    for (const w of this.#watchers) if ((pod as unknown as { spec: { nodeName: string } }).spec.nodeName === w.node) w.res.write(JSON.stringify({ type, object: pod }) + '\n');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    this.requests.push(`${req.method} ${url.pathname}`);
    if (req.headers.authorization !== 'Bearer test-token') return this.#json(res, 401, { kind: 'Status', code: 401 });
    let body = '';
    for await (const chunk of req) body += chunk;
    const json = (code: number, value: unknown) => this.#json(res, code, value);
    if (url.pathname === '/api/v1/pods') {
      const node = (url.searchParams.get('fieldSelector') ?? '').replace(/^spec\.nodeName=/, '');
      if (url.searchParams.get('watch') === 'true') {
        res.writeHead(200, { 'content-type': 'application/json' });
        this.#watchers.push({ res, node });
        req.on('close', () => (this.#watchers = this.#watchers.filter((w) => w.res !== res)));
        return;
      }
      const items = [...this.pods.values()].filter((p) => (p as unknown as { spec: { nodeName: string } }).spec.nodeName === node);
      return json(200, { kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: String(this.#rv) }, items });
    }
    if (url.pathname === '/apis/cilium.io/v1alpha1/tracingpoliciesnamespaced' && req.method === 'GET') {
      const want = (url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((s) => s.split('=') as [string, string]);
      const items = [...this.policies.values()].filter((o) => want.every(([k, v]) => o.metadata.labels?.[k] === v));
      return json(200, { apiVersion: 'cilium.io/v1alpha1', kind: 'TracingPolicyNamespacedList', metadata: {}, items });
    }
    const m = /^\/apis\/cilium\.io\/v1alpha1\/namespaces\/([^/]+)\/tracingpoliciesnamespaced(?:\/([^/]+))?$/.exec(url.pathname);
    if (!m) return json(404, { kind: 'Status', code: 404 });
    const [, namespace, name] = m as unknown as [string, string, string | undefined];
    if (req.method === 'POST') {
      const obj = JSON.parse(body) as Obj;
      const key = `${namespace}/${obj.metadata.name}`;
      if (this.policies.has(key)) return json(409, { kind: 'Status', code: 409, reason: 'AlreadyExists' });
      const stored = { ...obj, metadata: { ...obj.metadata, namespace, resourceVersion: String(++this.#rv) } };
      this.policies.set(key, stored);
      return json(201, stored);
    }
    const key = `${namespace}/${name}`;
    const have = this.policies.get(key);
    if (!have) return json(404, { kind: 'Status', code: 404 });
    if (req.method === 'PUT') {
      const obj = JSON.parse(body) as Obj;
      if (obj.metadata.resourceVersion !== have.metadata.resourceVersion) return json(409, { kind: 'Status', code: 409, reason: 'Conflict' });
      const stored = { ...obj, metadata: { ...obj.metadata, namespace, resourceVersion: String(++this.#rv) } };
      this.policies.set(key, stored);
      return json(200, stored);
    }
    if (req.method === 'DELETE') {
      this.policies.delete(key);
      return json(200, { kind: 'Status', status: 'Success' });
    }
    return json(405, { kind: 'Status', code: 405 });
  }

  #json(res: ServerResponse, code: number, value: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  }
}
