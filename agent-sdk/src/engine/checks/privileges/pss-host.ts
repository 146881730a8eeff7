import { mountedBy } from '../../containers.ts';
import { list, type Handler, type Volume } from '../../k8s.ts';
import type { ContainerView } from '../../types.ts';
import { perContainer, podSc, sc, type PrivilegeRule } from './common.ts';

/** Baseline checks about the host: namespaces, privileged, hostPath, host ports, probe hosts, Windows HostProcess. */
export const hostNamespaces: PrivilegeRule = {
  id: 'hostNamespaces',
  severity: 'high',
  run: (ctx) =>
    (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => ctx.spec[f] === true).map((f) => ({ message: `pod sets ${f}=true` })),
};

export const privileged: PrivilegeRule = {
  id: 'privileged',
  severity: 'critical',
  run: (ctx) => perContainer(ctx, (c) => (sc(c).privileged === true ? `container "${c.name}" sets privileged=true` : undefined)),
};

export const hostPathVolumes: PrivilegeRule = {
  id: 'hostPathVolumes',
  severity: 'high',
  run: (ctx) =>
    list<Volume>(ctx.spec.volumes)
      .filter((v) => v?.hostPath !== undefined && v.hostPath !== null)
      .flatMap((v) => mountedBy(ctx, String(v.name ?? '')).map((container) => ({ container, message: `volume "${v.name}" is a hostPath volume` }))),
};

export const hostPorts: PrivilegeRule = {
  id: 'hostPorts',
  severity: 'medium',
  run: (ctx) =>
    perContainer(ctx, (c) => {
      const ports = list<{ hostPort?: number }>(c.spec.ports).filter((p) => typeof p?.hostPort === 'number' && p.hostPort !== 0);
      return ports.length ? `container "${c.name}" uses host ports ${ports.map((p) => p.hostPort).join(', ')}` : undefined;
    }),
};

const HANDLERS = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const handlerHosts = (h: Handler | undefined) => [h?.httpGet?.host, h?.tcpSocket?.host].filter((x): x is string => typeof x === 'string' && x !== '');
const containerHosts = (c: ContainerView) => [
  ...HANDLERS.flatMap((k) => handlerHosts(c.spec[k])),
  ...handlerHosts(c.spec.lifecycle?.postStart),
  ...handlerHosts(c.spec.lifecycle?.preStop),
];

export const hostProbesAndHostLifecycle: PrivilegeRule = {
  id: 'hostProbesAndHostLifecycle',
  severity: 'medium',
  run: (ctx) =>
    perContainer(ctx, (c) => {
      const hosts = containerHosts(c);
      return hosts.length ? `container "${c.name}" sends probes or lifecycle hooks to host ${hosts.join(', ')}` : undefined;
    }),
};

export const windowsHostProcess: PrivilegeRule = {
  id: 'windowsHostProcess',
  severity: 'critical',
  run: (ctx) => [
    ...(podSc(ctx).windowsOptions?.hostProcess === true ? [{ message: 'pod sets windowsOptions.hostProcess=true' }] : []),
    ...perContainer(ctx, (c) => (sc(c).windowsOptions?.hostProcess === true ? `container "${c.name}" sets windowsOptions.hostProcess=true` : undefined)),
  ],
};
