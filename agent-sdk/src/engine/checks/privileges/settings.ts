import type { PrivilegeSetting } from '../../../../../schema/runtime-policies.ts';
import { list } from '../../k8s.ts';
import type { CheckContext, ContainerView } from '../../types.ts';
import { capabilityName } from '../capabilities-block.ts';
import { APPARMOR_ANNOTATION, appArmorAnnotationAllowed, appArmorTypeAllowed, perContainer, podSc, sc, seLinuxAllowed, type PrivilegeRule } from './common.ts';
import { hostPathVolumes, hostPorts, privileged } from './pss-host.ts';
import { allowPrivilegeEscalation } from './pss-restricted.ts';
import { procMountRestricted, sysctls } from './pss-security.ts';

const podFlag = (id: 'hostNetwork' | 'hostPID' | 'hostIPC'): PrivilegeRule => ({
  id,
  severity: 'high',
  run: (ctx) => (ctx.spec[id] === true ? [{ message: `pod sets ${id}=true` }] : []),
});

/** A per-container rule on the effective value: the container's own setting, else the pod's. */
const effective = (id: PrivilegeSetting, severity: PrivilegeRule['severity'], message: (c: ContainerView, ctx: CheckContext) => string | undefined): PrivilegeRule => ({
  id,
  severity,
  run: (ctx) => perContainer(ctx, (c) => message(c, ctx)),
});

const appArmorOf = (c: ContainerView, ctx: CheckContext): string | undefined => {
  const own = sc(c).appArmorProfile;
  if (own) return appArmorTypeAllowed(own.type) ? undefined : `it sets appArmorProfile.type=${own.type}`;
  const annotation = ctx.workload.annotations[APPARMOR_ANNOTATION + c.name];
  if (annotation !== undefined) return appArmorAnnotationAllowed(annotation) ? undefined : `its AppArmor annotation is ${annotation}`;
  const pod = podSc(ctx).appArmorProfile;
  return pod && !appArmorTypeAllowed(pod.type) ? `the pod sets appArmorProfile.type=${pod.type}` : undefined;
};

/**
 * The individual settings of `limitContainerPrivileges`. Where a setting is a PSS control it keeps PSS semantics;
 * settings the pod and its containers both carry are judged on each container's effective value. Decisions:
 * `runAsRoot` flags a container whose effective runAsNonRoot is not true or whose effective runAsUser is 0;
 * `addedCapabilities` flags any added capability other than NET_BIND_SERVICE (case and `CAP_` ignored), as the
 * restricted level does, not baseline's list; `unmaskedProcMount` flags any procMount but Default, user namespace or
 * not; `allowPrivilegeEscalation` skips Windows pods, which cannot set it.
 */
export const SETTINGS: Record<PrivilegeSetting, PrivilegeRule> = {
  privileged,
  hostNetwork: podFlag('hostNetwork'),
  hostPID: podFlag('hostPID'),
  hostIPC: podFlag('hostIPC'),
  hostPorts,
  runAsRoot: effective('runAsRoot', 'medium', (c, ctx) => {
    const nonRoot = sc(c).runAsNonRoot ?? podSc(ctx).runAsNonRoot;
    const user = sc(c).runAsUser ?? podSc(ctx).runAsUser;
    if (user === 0) return `container "${c.name}" runs as user 0`;
    return nonRoot === true ? undefined : `container "${c.name}" may run as root (runAsNonRoot is not true)`;
  }),
  allowPrivilegeEscalation,
  hostPathVolumes,
  addedCapabilities: effective('addedCapabilities', 'medium', (c) => {
    const added = list<unknown>(sc(c).capabilities?.add).map((a) => capabilityName(String(a))).filter((a) => a !== 'NET_BIND_SERVICE');
    return added.length ? `container "${c.name}" adds capabilities ${added.join(', ')}` : undefined;
  }),
  unmaskedProcMount: { ...procMountRestricted, id: 'unmaskedProcMount' },
  unsafeSysctls: { ...sysctls, id: 'unsafeSysctls' },
  customSELinuxOptions: effective('customSELinuxOptions', 'medium', (c, ctx) =>
    seLinuxAllowed(sc(c).seLinuxOptions ?? podSc(ctx).seLinuxOptions) ? undefined : `container "${c.name}" has custom seLinuxOptions (type, user or role)`,
  ),
  unconfinedSeccomp: effective('unconfinedSeccomp', 'medium', (c, ctx) =>
    (sc(c).seccompProfile ?? podSc(ctx).seccompProfile)?.type === 'Unconfined' ? `container "${c.name}" runs with seccomp Unconfined` : undefined,
  ),
  unconfinedAppArmor: effective('unconfinedAppArmor', 'medium', (c, ctx) => {
    const why = appArmorOf(c, ctx);
    return why ? `container "${c.name}" runs without AppArmor confinement (${why})` : undefined;
  }),
  windowsHostProcess: effective('windowsHostProcess', 'critical', (c, ctx) =>
    (sc(c).windowsOptions?.hostProcess ?? podSc(ctx).windowsOptions?.hostProcess) === true ? `container "${c.name}" runs as a Windows HostProcess` : undefined,
  ),
};
