import { z } from 'zod';

/**
 * The types of every field of a workload the engine reads, so that a value of the wrong type is refused instead of
 * being read as absent (`privileged: "true"` is not `true`, and `containers` as an object would hide its container).
 * Loose: unknown fields pass; `null` stands for an absent optional, as API server output has it.
 */
const opt = <T extends z.ZodType>(t: T) => t.nullish();
const str = opt(z.string());
const bool = opt(z.boolean());
const int = opt(z.int());
const strings = opt(z.array(z.string()));
const stringMap = opt(z.record(z.string(), z.string()));
const profile = opt(z.looseObject({ type: str, localhostProfile: str }));
const seLinux = opt(z.looseObject({ user: str, role: str, type: str, level: str }));
const windows = opt(z.looseObject({ hostProcess: bool }));
const handler = opt(z.looseObject({ httpGet: opt(z.looseObject({ host: str })), tcpSocket: opt(z.looseObject({ host: str })) }));
const quantities = opt(z.record(z.string(), z.union([z.string(), z.number()])));

const Container = z.looseObject({
  name: str,
  image: str,
  ports: opt(z.array(z.looseObject({ containerPort: int, hostPort: int }))),
  securityContext: opt(
    z.looseObject({
      privileged: bool, allowPrivilegeEscalation: bool, runAsNonRoot: bool, runAsUser: int, procMount: str,
      capabilities: opt(z.looseObject({ add: strings, drop: strings })),
      seLinuxOptions: seLinux, seccompProfile: profile, appArmorProfile: profile, windowsOptions: windows,
    }),
  ),
  resources: opt(z.looseObject({ requests: quantities, limits: quantities })),
  volumeMounts: opt(z.array(z.looseObject({ name: str, mountPath: str }))),
  livenessProbe: handler,
  readinessProbe: handler,
  startupProbe: handler,
  lifecycle: opt(z.looseObject({ postStart: handler, preStop: handler })),
});

const PodSpec = z.looseObject({
  containers: opt(z.array(Container)),
  initContainers: opt(z.array(Container)),
  ephemeralContainers: opt(z.array(Container)),
  volumes: opt(z.array(z.looseObject({ name: str, hostPath: opt(z.looseObject({ path: str })) }))),
  hostNetwork: bool, hostPID: bool, hostIPC: bool, hostUsers: bool,
  os: opt(z.looseObject({ name: str })),
  securityContext: opt(
    z.looseObject({
      runAsNonRoot: bool, runAsUser: int, seLinuxOptions: seLinux, seccompProfile: profile, appArmorProfile: profile, windowsOptions: windows,
      sysctls: opt(z.array(z.looseObject({ name: str, value: str }))),
    }),
  ),
});

const Meta = opt(
  z.looseObject({
    name: str, generateName: str, namespace: str, labels: stringMap, annotations: stringMap,
    ownerReferences: opt(z.array(z.looseObject({ kind: str, name: str }))),
  }),
);
const Template = z.looseObject({ metadata: Meta, spec: PodSpec });
const Templated = z.looseObject({ metadata: Meta, spec: z.looseObject({ template: Template }) });

const SHAPES: Record<string, z.ZodType> = {
  Pod: z.looseObject({ metadata: Meta, spec: PodSpec }),
  CronJob: z.looseObject({ metadata: Meta, spec: z.looseObject({ jobTemplate: z.looseObject({ spec: z.looseObject({ template: Template }) }) }) }),
};

/** One field of the wrong type: its JSON Pointer in the object, and what was wrong. */
export interface ShapeProblem {
  pointer: string;
  message: string;
}

const pointer = (path: PropertyKey[]) => path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * Fields of a workload (Pod, or the pod template of the other kinds) whose type is not what Kubernetes defines, as
 * JSON Pointers into the object. Empty for a well-formed workload, and for objects the engine does not evaluate.
 *
 * @example
 * ```ts
 * workloadShapeProblems({ kind: 'Pod', spec: { containers: [{ securityContext: { privileged: 'true' } }] } });
 * // [{ pointer: '/spec/containers/0/securityContext/privileged', message: 'Invalid input: expected boolean, received string' }]
 * ```
 */
export function workloadShapeProblems(object: unknown): ShapeProblem[] {
  const kind = (object as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') return [];
  const shape = SHAPES[kind] ?? Templated;
  let result;
  try {
    result = shape.safeParse(object);
  } catch (err) {
    // An object whose fields cannot even be read (a throwing getter from a caller) is refused the same way.
    return [{ pointer: '', message: `cannot be read: ${err instanceof Error ? err.message : String(err)}` }];
  }
  return result.success ? [] : result.error.issues.slice(0, 20).map((i) => ({ pointer: pointer(i.path), message: i.message }));
}
