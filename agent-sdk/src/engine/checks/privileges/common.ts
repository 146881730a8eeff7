import type { Severity } from '../../../../../schema/audit-event.ts';
import type { PodSecurityContext, SecurityContext } from '../../k8s.ts';
import type { CheckContext, ContainerView } from '../../types.ts';

/** One Pod Security Standards check or privilege setting: its violations, each on a container or the pod. */
export interface PrivilegeRule {
  id: string;
  severity: Severity;
  run(ctx: CheckContext): Array<{ container?: ContainerView; message: string }>;
}

export const sc = (c: ContainerView): SecurityContext => c.spec.securityContext ?? {};
export const podSc = (ctx: CheckContext): PodSecurityContext => ctx.spec.securityContext ?? {};
export const isWindows = (ctx: CheckContext) => ctx.spec.os?.name === 'windows';
/** `hostUsers: false`: the pod runs in a user namespace (PSS relaxes some checks for it since v1.35). */
export const inUserNamespace = (ctx: CheckContext) => ctx.spec.hostUsers === false;

/** Capabilities the baseline level lets a container add (exact names, as PSA compares them). */
export const BASELINE_CAPABILITIES = new Set([
  'AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT',
]);

/** The safe sysctls of policy version v1.37. */
export const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes', 'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem', 'net.ipv4.tcp_slow_start_after_idle', 'net.ipv4.tcp_notsent_lowat',
]);

export const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** SELinux options PSS accepts: a type from the allowed set, no user, no role (level is free). */
export const seLinuxAllowed = (o: SecurityContext['seLinuxOptions']) =>
  !o || (SELINUX_TYPES.has(o.type ?? '') && (o.user ?? '') === '' && (o.role ?? '') === '');

export const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';
export const appArmorTypeAllowed = (type: string | undefined) => type === 'RuntimeDefault' || type === 'Localhost';
export const appArmorAnnotationAllowed = (v: string) => v === '' || v === 'runtime/default' || v.startsWith('localhost/');

export const seccompRestricted = (type: string | undefined) => type === 'RuntimeDefault' || type === 'Localhost';

/** Per-container violations: one per container the predicate flags. */
export function perContainer(ctx: CheckContext, message: (c: ContainerView) => string | undefined): Array<{ container: ContainerView; message: string }> {
  // A plain loop: this runs for every rule of a preset on every pod (flatMap made an array per container).
  const out: Array<{ container: ContainerView; message: string }> = [];
  for (const container of ctx.containers) {
    const m = message(container);
    if (m !== undefined) out.push({ container, message: m });
  }
  return out;
}
