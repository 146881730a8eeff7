import type { ExecEvent, KernelAction, NetworkEvent, Protocol, RuntimeContainer, RuntimeEvent, RuntimeProcess } from './event.ts';

/** Why an input line produced no event; counted as a drop by that reason. */
export type AdaptDrop = 'malformed' | 'unsupported' | 'hostProcess';
export type Adapted = { event: RuntimeEvent } | { drop: AdaptDrop };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Connections opened by the container (`tcp_connect` from a `sock` arg, `security_socket_connect` from a `sockaddr`). */
const EGRESS = new Set(['tcp_connect', 'security_socket_connect']);
/** Connections the container accepted: `inet_csk_accept`'s returned `sock`. */
const INGRESS = new Set(['inet_csk_accept']);
const EXEC_HOOKS = new Set(['bprm_check_security', 'security_bprm_check', 'security_bprm_creds_for_exec', 'security_bprm_creds_from_file']);

function processOf(p: Obj | undefined): RuntimeProcess | undefined {
  if (!p) return undefined;
  const binary = p.binary;
  if (typeof binary !== 'string') return undefined;
  const args = p.arguments;
  const pid = num(p.pid);
  return pid !== undefined ? { binary, args: typeof args === 'string' ? args : '', pid } : { binary, args: typeof args === 'string' ? args : '' };
}

/**
 * The sensor's labels, string values only. The parsed object itself when it already is that (the common case: no
 * copy per event); a copy otherwise, and always when a key is `__proto__`, which an assignment would not keep.
 */
function labelsOf(v: unknown): Record<string, string> {
  const o = obj(v);
  if (!o) return {};
  let clean = true;
  for (const k in o) if (typeof o[k] !== 'string' || k === '__proto__') clean = false;
  if (clean) return o as Record<string, string>;
  const labels: Record<string, string> = {};
  for (const [k, value] of Object.entries(o)) if (typeof value === 'string') labels[k] = value;
  return labels;
}

/** `containerd://abc` → `abc` (a scheme of lower-case letters and dashes). */
function withoutScheme(id: string): string {
  const at = id.indexOf('://');
  if (at <= 0) return id;
  for (let i = 0; i < at; i++) {
    const c = id.charCodeAt(i);
    if (c !== 45 && (c < 97 || c > 122)) return id;
  }
  return id.slice(at + 3);
}

function containerOf(p: Obj): RuntimeContainer | undefined {
  const pod = obj(p.pod);
  if (!pod) return undefined;
  const namespace = pod.namespace;
  const name = pod.name;
  if (typeof namespace !== 'string' || typeof name !== 'string' || !namespace || !name) return undefined;
  const c = obj(pod.container);
  const image = obj(c?.image);
  const imageId = str(image?.id);
  const at = imageId?.lastIndexOf('@') ?? -1;
  const id = str(c?.id);
  const imageName = str(image?.name);
  const workload = str(pod.workload);
  const kind = str(pod.workload_kind);
  // Properties in the order the event type lists them; absent ones left out (not `undefined`).
  const out: RuntimeContainer = { namespace, pod: name, container: str(c?.name) ?? '' };
  if (id) out.containerId = withoutScheme(id);
  if (imageName) out.image = imageName;
  if (imageId && at >= 0) out.imageDigest = imageId.slice(at + 1);
  out.labels = labelsOf(pod.pod_labels);
  if (workload && kind) out.workload = { kind, name: workload };
  return out;
}

function kernelAction(action: unknown): KernelAction | undefined {
  return action === 'KPROBE_ACTION_OVERRIDE' ? 'override' : action === 'KPROBE_ACTION_SIGKILL' ? 'sigkill' : undefined;
}

const PROTOCOLS: Record<string, Protocol> = { IPPROTO_TCP: 'TCP', IPPROTO_UDP: 'UDP', IPPROTO_SCTP: 'SCTP' };

/** The first argument holding `key` (`sock_arg`, `sockaddr_arg`) as an object. */
function argOf(args: unknown[], key: string): Obj | undefined {
  for (let i = 0; i < args.length; i++) {
    const v = obj(obj(args[i])?.[key]);
    if (v) return v;
  }
  return undefined;
}

function network(fn: string, args: unknown[], e: Base): NetworkEvent | undefined {
  const sock = argOf(args, 'sock_arg');
  const addr = argOf(args, 'sockaddr_arg');
  const direction = EGRESS.has(fn) ? 'egress' : 'ingress';
  const protocol = PROTOCOLS[str(sock?.protocol) ?? 'IPPROTO_TCP'];
  if (!protocol) return undefined;
  // A connect's peer is the sockaddr it was given (or the sock's destination); an accepted sock's peer is its destination too.
  const remoteAddress = str(addr?.addr) ?? str(sock?.daddr);
  const remotePort = num(addr?.port) ?? num(sock?.dport);
  const family = (str(addr?.family) ?? str(sock?.family)) === 'AF_INET6' ? 6 : 4;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  const localAddress = str(sock?.saddr);
  const localPort = num(sock?.sport);
  const event = e as unknown as NetworkEvent;
  event.type = 'network';
  event.direction = direction;
  event.protocol = protocol;
  event.family = family;
  event.remote = { address: remoteAddress, port: remotePort };
  if (localAddress !== undefined && localPort !== undefined) event.local = { address: localAddress, port: localPort };
  return event;
}

/** The fields every event has, filled in the order the event type lists them (one object shape per kind). */
type Base = Omit<ExecEvent, 'type'> & { type?: 'exec' };
const defaultNow = () => new Date();

/**
 * One line of Tetragon's JSON export (`export-filename`, one event per line) into a runtime event:
 * `process_exec` → exec; `process_lsm` / `process_kprobe` on an exec hook (`bprm_check_security`, with its
 * `linux_binprm` path as the new binary) → exec when a policy's `Override` / `Sigkill` acted (a refused exec has no
 * `process_exec`; one that went through has, so the hook event is then `unsupported`, not counted twice);
 * `process_kprobe` on `tcp_connect` / `security_socket_connect` → egress, on `inet_csk_accept` → ingress. Other
 * events (exits, file hooks, `tcp_sendmsg`) are `unsupported`; events outside a pod are `hostProcess`. Tolerates
 * both the exporter's form (empty fields left out) and re-serialised forms (`"return": null`, `"label": ""`).
 */
export function adaptTetragon(line: string | unknown, now: () => Date = defaultNow): Adapted {
  let root: Obj | undefined;
  try {
    root = obj(typeof line === 'string' ? JSON.parse(line) : line);
  } catch {
    return { drop: 'malformed' };
  }
  if (!root) return { drop: 'malformed' };
  let kind: 'process_exec' | 'process_kprobe' | 'process_lsm';
  let body = obj(root.process_exec);
  if (body) kind = 'process_exec';
  else if ((body = obj(root.process_kprobe))) kind = 'process_kprobe';
  else if ((body = obj(root.process_lsm))) kind = 'process_lsm';
  else return Object.keys(root).some((k) => k.startsWith('process_')) ? { drop: 'unsupported' } : { drop: 'malformed' };
  const time = str(root.time) ?? now().toISOString();
  const node = str(root.node_name);
  const p = obj(body.process);
  const process = processOf(p);
  if (!p || !process) return { drop: 'malformed' };
  const container = containerOf(p);
  if (!container) return { drop: 'hostProcess' };
  const parent = processOf(obj(body.parent));
  const e: Base = { sensor: 'tetragon', time, container, process };
  if (node) e.node = node;
  if (parent) e.parent = parent;
  if (kind === 'process_exec') {
    e.type = 'exec';
    return { event: e as ExecEvent };
  }
  const fn = str(body.function_name) ?? '';
  const args: unknown[] = Array.isArray(body.args) ? body.args : [];
  const action = kernelAction(body.action);
  const source = str(body.policy_name);
  if (EXEC_HOOKS.has(fn)) {
    // Without a kernel action the exec also arrives as `process_exec`: deciding on both would count it twice.
    if (!action) return { drop: 'unsupported' };
    // The first argument that is an object (others are skipped, as everywhere).
    let first: Obj | undefined;
    for (let i = 0; i < args.length && !first; i++) first = obj(args[i]);
    const target = str(obj(first?.linux_binprm_arg)?.path) ?? str(obj(first?.file_arg)?.path);
    if (!target) return { drop: 'malformed' };
    // The process in the event is the one calling exec; the binary being started is the hook's argument.
    e.parent = process;
    e.process = process.pid !== undefined ? { binary: target, args: '', pid: process.pid } : { binary: target, args: '' };
    if (action) e.kernelAction = action;
    if (source) e.source = source;
    e.type = 'exec';
    return { event: e as ExecEvent };
  }
  if (!EGRESS.has(fn) && !INGRESS.has(fn)) return { drop: 'unsupported' };
  if (action) e.kernelAction = action;
  if (source) e.source = source;
  const event = network(fn, args, e);
  return event ? { event } : { drop: 'malformed' };
}
