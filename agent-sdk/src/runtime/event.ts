/**
 * The one runtime event type every sensor adapter produces (Tetragon, Falco, the test shim). Only what decisions,
 * audit events and enforcement need; sensor-specific detail stays in the adapter.
 */
export type SensorKind = 'tetragon' | 'falco';

/** Where the event happened: a container of a pod, as the sensor reported it. */
export interface RuntimeContainer {
  namespace: string;
  pod: string;
  /** Container name; `''` when the sensor did not say (Falco's alerts). */
  container: string;
  /** Runtime container id without the `containerd://` scheme, when known. */
  containerId?: string;
  /** The image as the runtime reports it (`docker.io/library/nginx:1.25`). */
  image?: string;
  /** `sha256:…` of the image the container runs, when the sensor reports it. */
  imageDigest?: string;
  /** Pod labels, when the sensor reports them (Tetragon does); otherwise the agent's pod cache fills them in. */
  labels?: Record<string, string>;
  /** The top-level owner, when the sensor reports it (Tetragon's `workload` / `workload_kind`). */
  workload?: { kind: string; name: string };
}

export interface RuntimeProcess {
  /** Host pid (what the agent can signal). */
  pid?: number;
  binary: string;
  /** Arguments as one string, as the sensors export them. */
  args: string;
}

/** What the kernel already did, when a sensor's own in-kernel policy acted (Tetragon `Override` / `Sigkill`). */
export type KernelAction = 'override' | 'sigkill';

interface EventBase {
  sensor: SensorKind;
  /** ISO 8601, from the sensor. */
  time: string;
  node?: string;
  container: RuntimeContainer;
  process: RuntimeProcess;
  parent?: RuntimeProcess;
  /** The tracing policy (Tetragon) or rule (Falco) that produced the event. */
  source?: string;
  kernelAction?: KernelAction;
}

/** A program started (or, with `kernelAction`, was refused) in a container. `binary` is the new executable. */
export interface ExecEvent extends EventBase {
  type: 'exec';
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/**
 * A connection from (`egress`, connect) or to (`ingress`, accept) a container. `remote` is the peer: the FQDN rules
 * are decided on it, through the agent's own resolution of the listed names (sensors see addresses, not names).
 */
export interface NetworkEvent extends EventBase {
  type: 'network';
  direction: 'egress' | 'ingress';
  protocol: Protocol;
  family: 4 | 6;
  local?: { address: string; port: number };
  remote: { address: string; port: number };
}

export type RuntimeEvent = ExecEvent | NetworkEvent;
