import { list } from '../../k8s.ts';
import type { ContainerView } from '../../types.ts';
import {
  APPARMOR_ANNOTATION, BASELINE_CAPABILITIES, SAFE_SYSCTLS, appArmorAnnotationAllowed, appArmorTypeAllowed, inUserNamespace,
  perContainer, podSc, sc, seLinuxAllowed, type PrivilegeRule,
} from './common.ts';

/** Baseline checks on security contexts, with Pod Security Admission's semantics at policy version v1.37. */
export const capabilitiesBaseline: PrivilegeRule = {
  id: 'capabilities_baseline',
  severity: 'high',
  run: (ctx) =>
    perContainer(ctx, (c) => {
      const bad = list<unknown>(sc(c).capabilities?.add).filter((cap) => typeof cap !== 'string' || !BASELINE_CAPABILITIES.has(cap));
      return bad.length ? `container "${c.name}" adds capabilities ${bad.join(', ')} beyond the baseline set` : undefined;
    }),
};

export const appArmorProfile: PrivilegeRule = {
  id: 'appArmorProfile',
  severity: 'medium',
  run(ctx) {
    const out: Array<{ container?: ContainerView; message: string }> = [];
    const pod = podSc(ctx).appArmorProfile;
    if (pod && !appArmorTypeAllowed(pod.type)) out.push({ message: `pod sets appArmorProfile.type=${pod.type}` });
    out.push(...perContainer(ctx, (c) => {
      const p = sc(c).appArmorProfile;
      return p && !appArmorTypeAllowed(p.type) ? `container "${c.name}" sets appArmorProfile.type=${p.type}` : undefined;
    }));
    // Containers by name, built once (not a scan of every container per annotation: both can number thousands).
    const evaluated = new Map<string, ContainerView>();
    for (const c of ctx.containers) if (!evaluated.has(c.name)) evaluated.set(c.name, c);
    const anyContainer = new Set(ctx.allContainers.map((c) => c.name));
    for (const [key, value] of Object.entries(ctx.workload.annotations)) {
      if (!key.startsWith(APPARMOR_ANNOTATION) || appArmorAnnotationAllowed(value)) continue;
      const name = key.slice(APPARMOR_ANNOTATION.length);
      const container = evaluated.get(name);
      if (container || !anyContainer.has(name)) out.push({ container, message: `annotation ${key}=${value} sets an AppArmor profile other than runtime/default or localhost/*` });
    }
    return out;
  },
};

export const seLinuxOptions: PrivilegeRule = {
  id: 'seLinuxOptions',
  severity: 'medium',
  run: (ctx) => [
    ...(seLinuxAllowed(podSc(ctx).seLinuxOptions) ? [] : [{ message: 'pod sets forbidden seLinuxOptions (type, user or role)' }]),
    ...perContainer(ctx, (c) => (seLinuxAllowed(sc(c).seLinuxOptions) ? undefined : `container "${c.name}" sets forbidden seLinuxOptions (type, user or role)`)),
  ],
};

const procMountDefault: PrivilegeRule['run'] = (ctx) =>
  perContainer(ctx, (c) => {
    const p = sc(c).procMount;
    return p !== undefined && p !== null && p !== 'Default' ? `container "${c.name}" sets procMount=${p}` : undefined;
  });

/** Baseline `/proc` mount: only `Default`, except in a user-namespaced pod (v1.35 relaxation). */
export const procMount: PrivilegeRule = { id: 'procMount', severity: 'high', run: (ctx) => (inUserNamespace(ctx) ? [] : procMountDefault(ctx)) };
/** Restricted `/proc` mount: only `Default`, user namespace or not. */
export const procMountRestricted: PrivilegeRule = { id: 'procMount_restricted', severity: 'high', run: procMountDefault };

export const seccompProfileBaseline: PrivilegeRule = {
  id: 'seccompProfile_baseline',
  severity: 'medium',
  run: (ctx) => [
    ...(podSc(ctx).seccompProfile?.type === 'Unconfined' ? [{ message: 'pod sets seccompProfile.type=Unconfined' }] : []),
    ...perContainer(ctx, (c) => (sc(c).seccompProfile?.type === 'Unconfined' ? `container "${c.name}" sets seccompProfile.type=Unconfined` : undefined)),
  ],
};

export const sysctls: PrivilegeRule = {
  id: 'sysctls',
  severity: 'medium',
  run: (ctx) => {
    const bad = list<{ name?: string }>(podSc(ctx).sysctls).filter((s) => typeof s?.name !== 'string' || !SAFE_SYSCTLS.has(s.name));
    return bad.length ? [{ message: `pod sets unsafe sysctls ${bad.map((s) => s?.name).join(', ')}` }] : [];
  },
};
