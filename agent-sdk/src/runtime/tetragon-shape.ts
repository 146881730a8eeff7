/**
 * Writes events in Tetragon's JSON export shape (the subset `adaptTetragon` reads, with the field names Tetragon
 * uses). For sensors other than Tetragon that feed the same path (the `bpftrace` shim) and for generated test streams.
 */
export interface ShapePod {
  namespace: string;
  name: string;
  container: string;
  containerId?: string;
  image?: string;
  imageDigest?: string;
  labels?: Record<string, string>;
  workload?: { kind: string; name: string };
}

export interface ShapeProcess {
  pid: number;
  binary: string;
  args?: string;
}

function processJson(p: ShapeProcess, pod: ShapePod | undefined, time: string) {
  return {
    pid: p.pid,
    binary: p.binary,
    arguments: p.args ?? '',
    start_time: time,
    ...(pod
      ? {
          pod: {
            namespace: pod.namespace,
            name: pod.name,
            container: {
              id: `containerd://${pod.containerId ?? '0'.repeat(64)}`,
              name: pod.container,
              image: { ...(pod.image && pod.imageDigest ? { id: `${pod.image.replace(/[:@].*$/, '')}@${pod.imageDigest}` } : {}), ...(pod.image ? { name: pod.image } : {}) },
            },
            pod_labels: pod.labels ?? {},
            ...(pod.workload ? { workload: pod.workload.name, workload_kind: pod.workload.kind } : {}),
          },
        }
      : {}),
  };
}

/** A `process_exec` line. */
export function tetragonExec(o: { time: string; node?: string; pod?: ShapePod; process: ShapeProcess; parent?: ShapeProcess }): Record<string, unknown> {
  return {
    process_exec: { process: processJson(o.process, o.pod, o.time), ...(o.parent ? { parent: processJson(o.parent, o.pod, o.time) } : {}) },
    node_name: o.node ?? 'node-1',
    time: o.time,
  };
}

/** A `process_lsm` `bprm_check_security` line: `process` starts `binary`; `action` as Tetragon reports an Override. */
export function tetragonLsmExec(o: { time: string; node?: string; pod?: ShapePod; process: ShapeProcess; binary: string; override?: boolean; policy?: string }): Record<string, unknown> {
  return {
    process_lsm: {
      process: processJson(o.process, o.pod, o.time),
      function_name: 'bprm_check_security',
      policy_name: o.policy ?? 'palisade',
      args: [{ linux_binprm_arg: { path: o.binary, permission: '-rwxr-xr-x' } }],
      action: o.override ? 'KPROBE_ACTION_OVERRIDE' : 'KPROBE_ACTION_POST',
    },
    node_name: o.node ?? 'node-1',
    time: o.time,
  };
}

/** A `process_kprobe` line on `tcp_connect` (egress) or `inet_csk_accept` (ingress) with a `sock` argument. */
export function tetragonConnect(o: {
  time: string;
  node?: string;
  pod?: ShapePod;
  process: ShapeProcess;
  direction: 'egress' | 'ingress';
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  local: { address: string; port: number };
  remote: { address: string; port: number };
  override?: boolean;
}): Record<string, unknown> {
  const v6 = o.remote.address.includes(':');
  return {
    process_kprobe: {
      process: processJson(o.process, o.pod, o.time),
      function_name: o.direction === 'egress' ? 'tcp_connect' : 'inet_csk_accept',
      args: [
        {
          sock_arg: {
            family: v6 ? 'AF_INET6' : 'AF_INET',
            type: o.protocol === 'UDP' ? 'SOCK_DGRAM' : 'SOCK_STREAM',
            protocol: `IPPROTO_${o.protocol ?? 'TCP'}`,
            saddr: o.local.address,
            daddr: o.remote.address,
            sport: o.local.port,
            dport: o.remote.port,
          },
        },
      ],
      action: o.override ? 'KPROBE_ACTION_OVERRIDE' : 'KPROBE_ACTION_POST',
      policy_name: 'palisade',
    },
    node_name: o.node ?? 'node-1',
    time: o.time,
  };
}
