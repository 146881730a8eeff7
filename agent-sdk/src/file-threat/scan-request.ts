import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileThreatService } from './service.ts';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * `POST /scan[?namespace=NS&pod=POD&container=NAME]` on the node agent's port: scans every file of the covered
 * containers that match, now (audit events name the trigger `onDemand`, and report findings already reported).
 * Loopback callers only (`kubectl exec` into the agent pod, or the node itself with `hostNetwork`): the port also
 * serves `/metrics` to the cluster, and a scan request costs the node real work. Answers 202 with the containers.
 */
export function scanRequest(service: FileThreatService, req: IncomingMessage, res: ServerResponse): void {
  if (!LOOPBACK.test(req.socket.remoteAddress ?? '')) {
    res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'scan requests are taken from loopback addresses only' }) + '\n');
    return;
  }
  const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const filter = { ...(q.get('namespace') ? { namespace: q.get('namespace')! } : {}), ...(q.get('pod') ? { pod: q.get('pod')! } : {}), ...(q.get('container') ? { container: q.get('container')! } : {}) };
  const containers = service.scanNow(filter);
  res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ containers }) + '\n');
}
