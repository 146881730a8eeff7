/**
 * A fast, conservative pre-check of `workloadShapeProblems` (spec-shape.ts): true only when every field the zod shape
 * reads has the type it wants, so that a well-formed workload (every request the API server sends) skips zod. False
 * means "ask zod", which then names the problems (or finds none): this check may refuse more than zod, never less.
 * Same reading as zod's: an object is any non-null non-array object, `null` stands for an absent optional, integers
 * are safe integers, numbers finite, and a record's every own key is a string whose value has the type.
 */
// Written out field by field rather than composed from generic combinators: a call site that sees one function
// inlines it, one that sees dozens of closures does not (composition cost as much as the rest of the decision).
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const absent = (v: unknown): v is null | undefined => v === undefined || v === null;
const str = (v: unknown) => absent(v) || typeof v === 'string';
const bool = (v: unknown) => absent(v) || typeof v === 'boolean';
const int = (v: unknown) => absent(v) || Number.isSafeInteger(v);

function strings(v: unknown): boolean {
  if (absent(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

/** A record whose every own key is a string with a string value (or, for quantities, a string or finite number). */
function stringMap(v: unknown, numbers = false): boolean {
  if (absent(v)) return true;
  if (!isObject(v)) return false;
  for (const k of Reflect.ownKeys(v)) {
    if (typeof k !== 'string') return false;
    const x = v[k];
    if (typeof x !== 'string' && !(numbers && typeof x === 'number' && Number.isFinite(x))) return false;
  }
  return true;
}

const profile = (v: unknown) => absent(v) || (isObject(v) && str(v.type) && str(v.localhostProfile));
const seLinux = (v: unknown) => absent(v) || (isObject(v) && str(v.user) && str(v.role) && str(v.type) && str(v.level));
const windows = (v: unknown) => absent(v) || (isObject(v) && bool(v.hostProcess));
const host = (v: unknown) => absent(v) || (isObject(v) && str(v.host));
const handler = (v: unknown) => absent(v) || (isObject(v) && host(v.httpGet) && host(v.tcpSocket));

function items(v: unknown, item: (x: Record<string, unknown>) => boolean): boolean {
  if (absent(v)) return true;
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!isObject(x) || !item(x)) return false;
  }
  return true;
}

function securityContext(v: unknown): boolean {
  if (absent(v)) return true;
  if (!isObject(v)) return false;
  const caps = v.capabilities;
  return (
    bool(v.privileged) && bool(v.allowPrivilegeEscalation) && bool(v.runAsNonRoot) && int(v.runAsUser) && str(v.procMount) &&
    (absent(caps) || (isObject(caps) && strings(caps.add) && strings(caps.drop))) &&
    seLinux(v.seLinuxOptions) && profile(v.seccompProfile) && profile(v.appArmorProfile) && windows(v.windowsOptions)
  );
}

const port = (p: Record<string, unknown>) => int(p.containerPort) && int(p.hostPort);
const mount = (m: Record<string, unknown>) => str(m.name) && str(m.mountPath);

function container(c: Record<string, unknown>): boolean {
  const r = c.resources;
  const l = c.lifecycle;
  return (
    str(c.name) && str(c.image) && items(c.ports, port) && securityContext(c.securityContext) &&
    (absent(r) || (isObject(r) && stringMap(r.requests, true) && stringMap(r.limits, true))) &&
    items(c.volumeMounts, mount) && handler(c.livenessProbe) && handler(c.readinessProbe) && handler(c.startupProbe) &&
    (absent(l) || (isObject(l) && handler(l.postStart) && handler(l.preStop)))
  );
}

const volume = (v: Record<string, unknown>) => str(v.name) && (absent(v.hostPath) || (isObject(v.hostPath) && str(v.hostPath.path)));
const sysctl = (s: Record<string, unknown>) => str(s.name) && str(s.value);

function podSecurityContext(v: unknown): boolean {
  if (absent(v)) return true;
  if (!isObject(v)) return false;
  return bool(v.runAsNonRoot) && int(v.runAsUser) && seLinux(v.seLinuxOptions) && profile(v.seccompProfile) && profile(v.appArmorProfile) && windows(v.windowsOptions) && items(v.sysctls, sysctl);
}

function podSpec(s: unknown): boolean {
  if (!isObject(s)) return false;
  const os = s.os;
  return (
    items(s.containers, container) && items(s.initContainers, container) && items(s.ephemeralContainers, container) && items(s.volumes, volume) &&
    bool(s.hostNetwork) && bool(s.hostPID) && bool(s.hostIPC) && bool(s.hostUsers) &&
    (absent(os) || (isObject(os) && str(os.name))) && podSecurityContext(s.securityContext)
  );
}

const owner = (o: Record<string, unknown>) => str(o.kind) && str(o.name);

function meta(m: unknown): boolean {
  if (absent(m)) return true;
  if (!isObject(m)) return false;
  return str(m.name) && str(m.generateName) && str(m.namespace) && stringMap(m.labels) && stringMap(m.annotations) && items(m.ownerReferences, owner);
}

const template = (t: unknown) => isObject(t) && meta(t.metadata) && podSpec(t.spec);

/** The shapes of `spec-shape.ts`: a Pod, a CronJob, and every other kind with `spec.template`. */
function shape(kind: string, o: unknown): boolean {
  if (!isObject(o) || !meta(o.metadata)) return false;
  if (kind === 'Pod') return podSpec(o.spec);
  const spec = o.spec;
  if (!isObject(spec)) return false;
  if (kind === 'CronJob') {
    const job = spec.jobTemplate;
    return isObject(job) && isObject(job.spec) && template(job.spec.template);
  }
  return template(spec.template);
}

/** True when `workloadShapeProblems(object)` is sure to be empty; false when zod must look (it may still find none). */
export function surelyWellFormed(object: unknown): boolean {
  const kind = (object as { kind?: unknown } | null)?.kind;
  if (typeof kind !== 'string') return true;
  try {
    return shape(kind, object);
  } catch {
    return false; // a throwing getter: zod reports it
  }
}
