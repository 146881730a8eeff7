/**
 * The slice of the Kubernetes Pod API the engine reads. Everything is optional: objects come from admission requests
 * (already validated by the API server) or from manifests in tests, and the engine never trusts a field to be there.
 */
export interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  procMount?: string;
  capabilities?: { add?: string[]; drop?: string[] };
  seLinuxOptions?: { user?: string; role?: string; type?: string; level?: string };
  seccompProfile?: { type?: string; localhostProfile?: string };
  appArmorProfile?: { type?: string; localhostProfile?: string };
  windowsOptions?: { hostProcess?: boolean };
}

export interface PodSecurityContext extends Omit<SecurityContext, 'privileged' | 'allowPrivilegeEscalation' | 'procMount' | 'capabilities'> {
  sysctls?: Array<{ name?: string; value?: string }>;
}

export interface Handler {
  httpGet?: { host?: string };
  tcpSocket?: { host?: string };
}

export interface ContainerSpec {
  name?: string;
  image?: string;
  ports?: Array<{ containerPort?: number; hostPort?: number }>;
  securityContext?: SecurityContext;
  resources?: { requests?: Record<string, unknown>; limits?: Record<string, unknown> };
  volumeMounts?: Array<{ name?: string; mountPath?: string }>;
  livenessProbe?: Handler;
  readinessProbe?: Handler;
  startupProbe?: Handler;
  lifecycle?: { postStart?: Handler; preStop?: Handler };
}

export type Volume = { name?: string; hostPath?: { path?: string } } & Record<string, unknown>;

export interface PodSpec {
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  hostUsers?: boolean;
  os?: { name?: string };
  securityContext?: PodSecurityContext;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Array<{ kind?: string; name?: string; controller?: boolean }>;
}

/** A list the engine can iterate whatever the input held. */
export const list = <T>(value: T[] | undefined | null | unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);

/** A plain object, or `undefined`. */
export const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
