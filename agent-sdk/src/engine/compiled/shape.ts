/**
 * A fast, conservative pre-check of `workloadShapeProblems` (spec-shape.ts): true only when every field the zod shape
 * reads has the type it wants, so that a well-formed workload (every request the API server sends) skips zod. False
 * means "ask zod", which then names the problems (or finds none): this check may refuse more than zod, never less.
 * Same reading as zod's: an object is any non-null non-array object, `null` stands for an absent optional, integers
 * are safe integers, numbers finite, and a record's every own key is a string whose value has the type.
 */
type Test = (v: unknown) => boolean;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown) => v === undefined || v === null;
const str: Test = (v) => absent(v) || typeof v === 'string';
const bool: Test = (v) => absent(v) || typeof v === 'boolean';
const int: Test = (v) => absent(v) || Number.isSafeInteger(v);

function object(fields: Record<string, Test>, required = false): Test {
  const keys = Object.keys(fields);
  const tests = keys.map((k) => fields[k]!);
  return (v) => {
    if (absent(v)) return !required;
    if (!isObject(v)) return false;
    for (let i = 0; i < keys.length; i++) if (!tests[i]!(v[keys[i]!])) return false;
    return true;
  };
}

function array(item: Test): Test {
  return (v) => {
    if (absent(v)) return true;
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
    return true;
  };
}

function record(value: Test): Test {
  return (v) => {
    if (absent(v)) return true;
    if (!isObject(v)) return false;
    for (const k of Reflect.ownKeys(v)) if (typeof k !== 'string' || !value(v[k])) return false;
    return true;
  };
}

const strings = array((v) => typeof v === 'string');
const stringMap = record((v) => typeof v === 'string');
const profile = object({ type: str, localhostProfile: str });
const seLinux = object({ user: str, role: str, type: str, level: str });
const windows = object({ hostProcess: bool });
const handler = object({ httpGet: object({ host: str }), tcpSocket: object({ host: str }) });
const quantities = record((v) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v)));

const container = object({
  name: str,
  image: str,
  ports: array(object({ containerPort: int, hostPort: int }, true)),
  securityContext: object({
    privileged: bool, allowPrivilegeEscalation: bool, runAsNonRoot: bool, runAsUser: int, procMount: str,
    capabilities: object({ add: strings, drop: strings }),
    seLinuxOptions: seLinux, seccompProfile: profile, appArmorProfile: profile, windowsOptions: windows,
  }),
  resources: object({ requests: quantities, limits: quantities }),
  volumeMounts: array(object({ name: str, mountPath: str }, true)),
  livenessProbe: handler,
  readinessProbe: handler,
  startupProbe: handler,
  lifecycle: object({ postStart: handler, preStop: handler }),
}, true);

const podSpec = object({
  containers: array(container),
  initContainers: array(container),
  ephemeralContainers: array(container),
  volumes: array(object({ name: str, hostPath: object({ path: str }) }, true)),
  hostNetwork: bool, hostPID: bool, hostIPC: bool, hostUsers: bool,
  os: object({ name: str }),
  securityContext: object({
    runAsNonRoot: bool, runAsUser: int, seLinuxOptions: seLinux, seccompProfile: profile, appArmorProfile: profile, windowsOptions: windows,
    sysctls: array(object({ name: str, value: str }, true)),
  }),
}, true);

const meta = object({
  name: str, generateName: str, namespace: str, labels: stringMap, annotations: stringMap,
  ownerReferences: array(object({ kind: str, name: str }, true)),
});
const template = object({ metadata: meta, spec: podSpec }, true);
const templated = object({ metadata: meta, spec: object({ template }, true) }, true);

const SHAPES: Record<string, Test> = {
  Pod: object({ metadata: meta, spec: podSpec }, true),
  CronJob: object({ metadata: meta, spec: object({ jobTemplate: object({ spec: object({ template }, true) }, true) }, true) }, true),
};

/** True when `workloadShapeProblems(object)` is sure to be empty; false when zod must look (it may still find none). */
export function surelyWellFormed(object: unknown): boolean {
  const kind = (object as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') return true;
  try {
    return (SHAPES[kind] ?? templated)(object);
  } catch {
    return false; // a throwing getter: zod reports it
  }
}
