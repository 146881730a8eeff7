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
  const binary = str(p?.binary);
  if (!p || binary === undefined) return undefined;
  return { binary, args: str(p.arguments) ?? '', ...(num(p.pid) !== undefined ? { pid: num(p.pid) } : {}) };
}

function containerOf(p: Obj): RuntimeContainer | undefined {
  const pod = obj(p.pod);
  const namespace = str(pod?.namespace);
  const name = str(pod?.name);
  if (!pod || !namespace || !name) return undefined;
  const c = obj(pod.container);
  const image = obj(c?.image);
  const imageId = str(image?.id);
  const at = imageId?.lastIndexOf('@') ?? -1;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(pod.pod_labels) ?? {})) if (typeof v === 'string') labels[k] = v;
  const workload = str(pod.workload);
  const kind = str(pod.workload_kind);
  const id = str(c?.id);
  return {
    namespace,
    pod: name,
    container: str(c?.name) ?? '',
    ...(id ? { containerId: id.replace(/^[a-z-]+:\/\//, '') } : {}),
    ...(str(image?.name) ? { image: str(image?.name) } : {}),
    ...(imageId && at >= 0 ? { imageDigest: imageId.slice(at + 1) } : {}),
    labels,
    ...(workload && kind ? { workload: { kind, name: workload } } : {}),
  };
}

function kernelAction(action: unknown): KernelAction | undefined {
  return action === 'KPROBE_ACTION_OVERRIDE' ? 'override' : action === 'KPROBE_ACTION_SIGKILL' ? 'sigkill' : undefined;
}

const PROTOCOLS: Record<string, Protocol> = { IPPROTO_TCP: 'TCP', IPPROTO_UDP: 'UDP', IPPROTO_SCTP: 'SCTP' };

function network(fn: string, args: Obj[], base: Omit<NetworkEvent, 'type' | 'direction' | 'protocol' | 'family' | 'remote'>): NetworkEvent | undefined {
  const sock = args.map((a) => obj(a.sock_arg)).find(Boolean);
  const addr = args.map((a) => obj(a.sockaddr_arg)).find(Boolean);
  const direction = EGRESS.has(fn) ? 'egress' : 'ingress';
  const protocol = PROTOCOLS[str(sock?.protocol) ?? 'IPPROTO_TCP'];
  if (!protocol) return undefined;
  // A connect's peer is the sockaddr it was given (or the sock's destination); an accepted sock's peer is its destination too.
  const remoteAddress = str(addr?.addr) ?? str(sock?.daddr);
  const remotePort = num(addr?.port) ?? num(sock?.dport);
  const family = (str(addr?.family) ?? str(sock?.family)) === 'AF_INET6' ? 6 : 4;
  if (remoteAddress === undefined || remotePort === undefined) return undefined;
  const local = sock && str(sock.saddr) !== undefined && num(sock.sport) !== undefined ? { address: str(sock.saddr)!, port: num(sock.sport)! } : undefined;
  return { ...base, type: 'network', direction, protocol, family, remote: { address: remoteAddress, port: remotePort }, ...(local ? { local } : {}) };
}

/**
 * One line of Tetragon's JSON export (`export-filename`, one event per line) into a runtime event:
 * `process_exec` → exec; `process_lsm` / `process_kprobe` on an exec hook (`bprm_check_security`, with its
 * `linux_binprm` path as the new binary) → exec when a policy's `Override` / `Sigkill` acted (a refused exec has no
 * `process_exec`; one that went through has, so the hook event is then `unsupported`, not counted twice);
 * `process_kprobe` on `tcp_connect` / `security_socket_connect` → egress, on `inet_csk_accept` → ingress. Other
 * events (exits, file hooks, `tcp_sendmsg`) are `unsupported`; events outside a pod are `hostProcess`. Tolerates
 * both the exporter's form (empty fields left out) and re-serialised forms (`"return": null`, `"label": ""`).
 */
export function adaptTetragon(line: string | unknown, now: () => Date = () => new Date()): Adapted {
  let root: Obj | undefined;
  try {
    root = obj(typeof line === 'string' ? JSON.parse(line) : line);
  } catch {
    return { drop: 'malformed' };
  }
  if (!root) return { drop: 'malformed' };
  const time = str(root.time) ?? now().toISOString();
  const node = str(root.node_name);
  const [kind, body] = (['process_exec', 'process_kprobe', 'process_lsm'] as const).map((k) => [k, obj(root![k])] as const).find(([, b]) => b) ?? [];
  if (!kind || !body) return Object.keys(root).some((k) => k.startsWith('process_')) ? { drop: 'unsupported' } : { drop: 'malformed' };
  const p = obj(body.process);
  const process = processOf(p);
  if (!p || !process) return { drop: 'malformed' };
  const container = containerOf(p);
  if (!container) return { drop: 'hostProcess' };
  const parent = processOf(obj(body.parent));
  const base = { sensor: 'tetragon' as const, time, ...(node ? { node } : {}), container, process, ...(parent ? { parent } : {}) };
  if (kind === 'process_exec') return { event: { ...base, type: 'exec' } satisfies ExecEvent };
  const fn = str(body.function_name) ?? '';
  const args = (Array.isArray(body.args) ? body.args : []).map(obj).filter((a): a is Obj => a !== undefined);
  const action = kernelAction(body.action);
  const source = str(body.policy_name);
  const extra = { ...(action ? { kernelAction: action } : {}), ...(source ? { source } : {}) };
  if (EXEC_HOOKS.has(fn)) {
    // Without a kernel action the exec also arrives as `process_exec`: deciding on both would count it twice.
    if (!action) return { drop: 'unsupported' };
    const target = str(obj(args[0]?.linux_binprm_arg)?.path) ?? str(obj(args[0]?.file_arg)?.path);
    if (!target) return { drop: 'malformed' };
    // The process in the event is the one calling exec; the binary being started is the hook's argument.
    return { event: { ...base, ...extra, type: 'exec', process: { ...process, binary: target, args: '' }, parent: process } satisfies ExecEvent };
  }
  if (!EGRESS.has(fn) && !INGRESS.has(fn)) return { drop: 'unsupported' };
  const event = network(fn, args, { ...base, ...extra });
  return event ? { event } : { drop: 'malformed' };
}
