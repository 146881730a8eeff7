import { list, type Volume } from '../../k8s.ts';
import { inUserNamespace, isWindows, perContainer, podSc, sc, seccompRestricted, type PrivilegeRule } from './common.ts';

/** Volume sources the restricted level allows; a volume naming no source is defaulted to `emptyDir` by the API server. */
const ALLOWED_VOLUMES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
const hasSource = (v: Volume, key: string) => v[key] !== undefined && v[key] !== null;

export const restrictedVolumes: PrivilegeRule = {
  id: 'restrictedVolumes',
  severity: 'high',
  run: (ctx) =>
    list<Volume>(ctx.spec.volumes)
      .filter((v) => v && typeof v === 'object')
      .filter((v) => {
        const sources = Object.keys(v).filter((k) => k !== 'name' && hasSource(v, k));
        return sources.length > 0 && !ALLOWED_VOLUMES.some((k) => hasSource(v, k));
      })
      .map((v) => ({ message: `volume "${v.name}" is of type ${Object.keys(v).filter((k) => k !== 'name').join(', ')}, which the restricted level does not allow` })),
};

/** Linux-only checks skip Windows pods (PSS v1.25+). */
export const allowPrivilegeEscalation: PrivilegeRule = {
  id: 'allowPrivilegeEscalation',
  severity: 'medium',
  run: (ctx) => (isWindows(ctx) ? [] : perContainer(ctx, (c) => (sc(c).allowPrivilegeEscalation === false ? undefined : `container "${c.name}" does not set allowPrivilegeEscalation=false`))),
};

export const runAsNonRoot: PrivilegeRule = {
  id: 'runAsNonRoot',
  severity: 'medium',
  run(ctx) {
    if (inUserNamespace(ctx)) return [];
    const pod = podSc(ctx).runAsNonRoot;
    return [
      ...(pod === false ? [{ message: 'pod sets runAsNonRoot=false' }] : []),
      ...perContainer(ctx, (c) => {
        const own = sc(c).runAsNonRoot;
        if (own === false) return `container "${c.name}" sets runAsNonRoot=false`;
        return own === undefined || own === null ? (pod === true ? undefined : `container "${c.name}" does not set runAsNonRoot=true (nor does the pod)`) : undefined;
      }),
    ];
  },
};

export const runAsUser: PrivilegeRule = {
  id: 'runAsUser',
  severity: 'high',
  run: (ctx) =>
    inUserNamespace(ctx)
      ? []
      : [
          ...(podSc(ctx).runAsUser === 0 ? [{ message: 'pod sets runAsUser=0' }] : []),
          ...perContainer(ctx, (c) => (sc(c).runAsUser === 0 ? `container "${c.name}" sets runAsUser=0` : undefined)),
        ],
};

export const seccompProfileRestricted: PrivilegeRule = {
  id: 'seccompProfile_restricted',
  severity: 'medium',
  run(ctx) {
    if (isWindows(ctx)) return [];
    const pod = podSc(ctx).seccompProfile;
    const podBad = pod !== undefined && pod !== null && !seccompRestricted(pod.type);
    return [
      ...(podBad ? [{ message: `pod sets seccompProfile.type=${pod.type}` }] : []),
      ...perContainer(ctx, (c) => {
        const own = sc(c).seccompProfile;
        if (own !== undefined && own !== null) return seccompRestricted(own.type) ? undefined : `container "${c.name}" sets seccompProfile.type=${own.type}`;
        return pod && !podBad ? undefined : `container "${c.name}" sets no seccompProfile RuntimeDefault or Localhost (nor does the pod)`;
      }),
    ];
  },
};

export const capabilitiesRestricted: PrivilegeRule = {
  id: 'capabilities_restricted',
  severity: 'high',
  run: (ctx) =>
    isWindows(ctx)
      ? []
      : perContainer(ctx, (c) => {
          const caps = sc(c).capabilities;
          const problems: string[] = [];
          if (!list<unknown>(caps?.drop).includes('ALL')) problems.push('does not drop ALL capabilities');
          const added = list<unknown>(caps?.add).filter((a) => a !== 'NET_BIND_SERVICE');
          if (added.length) problems.push(`adds capabilities ${added.join(', ')}`);
          return problems.length ? `container "${c.name}" ${problems.join(' and ')}` : undefined;
        }),
};
