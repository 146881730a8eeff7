import type { Protocol, RuntimeContainer } from './event.ts';
import type { Adapted } from './tetragon.ts';

type Obj = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '<NA>' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** `172.17.0.9:43812->10.96.0.1:443` (IPv6 addresses in brackets or bare, as Falco prints them). */
function endpoints(fd: string): [{ address: string; port: number }, { address: string; port: number }] | undefined {
  const parts = fd.split('->');
  if (parts.length !== 2) return undefined;
  const parse = (s: string) => {
    const colon = s.lastIndexOf(':');
    const port = Number(s.slice(colon + 1));
    const address = s.slice(0, colon).replace(/^\[|\]$/g, '');
    return colon > 0 && Number.isInteger(port) && port >= 0 && port <= 65535 ? { address, port } : undefined;
  };
  const [a, b] = [parse(parts[0]!), parse(parts[1]!)];
  return a && b ? [a, b] : undefined;
}

/**
 * One Falco JSON alert (`json_output: true`, fields in `output_fields`) into a runtime event. Falco is detect only:
 * its alerts arrive after the fact, so nothing decided on them is blocked in the kernel. An alert with a connection
 * (`fd.name` `local->remote`) is a network event (`evt.type` `accept` makes it ingress; otherwise egress); any other
 * syscall alert about a process is an exec event of `proc.exepath` (or `proc.name` when the rule's output has no
 * path: then only masks and regexes that match a bare name apply). `k8s_audit` alerts and alerts outside a pod are
 * not runtime events. `evt.time` (an integer above 2^53) is not used; the alert's `time` is.
 */
export function adaptFalco(line: string | unknown, now: () => Date = () => new Date()): Adapted {
  let root: Obj | undefined;
  try {
    const v = typeof line === 'string' ? JSON.parse(line) : line;
    root = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
  } catch {
    return { drop: 'malformed' };
  }
  const fields = root?.output_fields;
  if (!root || fields === null || typeof fields !== 'object') return { drop: 'malformed' };
  const f = fields as Obj;
  if (root.source !== undefined && root.source !== 'syscall') return { drop: 'unsupported' };
  const namespace = str(f['k8s.ns.name']);
  const pod = str(f['k8s.pod.name']);
  if (!namespace || !pod) return { drop: 'hostProcess' };
  const repo = str(f['container.image.repository']);
  const tag = str(f['container.image.tag']);
  const digest = str(f['container.image.digest']);
  const container: RuntimeContainer = {
    namespace,
    pod,
    container: str(f['k8s.container.name']) ?? str(f['container.name']) ?? '',
    ...(str(f['container.id']) ? { containerId: str(f['container.id']) } : {}),
    ...(repo ? { image: tag ? `${repo}:${tag}` : repo } : {}),
    ...(digest ? { imageDigest: digest } : {}),
  };
  const cmdline = str(f['proc.cmdline']) ?? '';
  const binary = str(f['proc.exepath']) ?? str(f['proc.name']) ?? cmdline.split(' ')[0] ?? '';
  if (!binary) return { drop: 'malformed' };
  const args = cmdline.includes(' ') ? cmdline.slice(cmdline.indexOf(' ') + 1) : '';
  const pid = num(f['proc.pid']);
  const pname = str(f['proc.pname']);
  const base = {
    sensor: 'falco' as const,
    time: str(root.time) ?? now().toISOString(),
    ...(str(root.hostname) ? { node: str(root.hostname) } : {}),
    container,
    process: { binary, args, ...(pid !== undefined ? { pid } : {}) },
    ...(pname ? { parent: { binary: pname, args: '' } } : {}),
    ...(typeof root.rule === 'string' ? { source: root.rule } : {}),
  };
  const fd = str(f['fd.name']);
  const conn = fd ? endpoints(fd) : undefined;
  if (conn) {
    const accepted = str(f['evt.type']) === 'accept' || str(f['evt.type']) === 'accept4';
    const [client, server] = conn;
    const l4 = str(f['fd.l4proto'])?.toUpperCase();
    const protocol: Protocol = l4 === 'UDP' ? 'UDP' : l4 === 'SCTP' ? 'SCTP' : 'TCP';
    const remote = accepted ? client : server;
    return {
      event: { ...base, type: 'network', direction: accepted ? 'ingress' : 'egress', protocol, family: remote.address.includes(':') ? 6 : 4, remote, local: accepted ? server : client },
    };
  }
  return { event: { ...base, type: 'exec' } };
}
