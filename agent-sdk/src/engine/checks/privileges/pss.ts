import type { PrivilegeRule } from './common.ts';
import { hostNamespaces, hostPathVolumes, hostPorts, hostProbesAndHostLifecycle, privileged, windowsHostProcess } from './pss-host.ts';
import {
  allowPrivilegeEscalation, capabilitiesRestricted, restrictedVolumes, runAsNonRoot, runAsUser, seccompProfileRestricted,
} from './pss-restricted.ts';
import { appArmorProfile, capabilitiesBaseline, procMount, procMountRestricted, seLinuxOptions, seccompProfileBaseline, sysctls } from './pss-security.ts';

/**
 * The Pod Security Standards as Kubernetes' Pod Security Admission implements them at policy version v1.37 (the
 * `latest` of a v1.37 API server). Check ids are PSA's.
 */
export const BASELINE: PrivilegeRule[] = [
  hostNamespaces, privileged, capabilitiesBaseline, hostPathVolumes, hostPorts, appArmorProfile, seLinuxOptions, procMount,
  seccompProfileBaseline, sysctls, windowsHostProcess, hostProbesAndHostLifecycle,
];

/** Restricted checks, each with the baseline checks it replaces (PSA's `OverrideCheckIDs`). */
const RESTRICTED_ONLY: Array<[PrivilegeRule, string[]]> = [
  [restrictedVolumes, ['hostPathVolumes']],
  [allowPrivilegeEscalation, []],
  [runAsNonRoot, []],
  [runAsUser, []],
  [seccompProfileRestricted, ['seccompProfile_baseline']],
  [capabilitiesRestricted, ['capabilities_baseline']],
  [procMountRestricted, ['procMount']],
];

const overridden = new Set(RESTRICTED_ONLY.flatMap(([, ids]) => ids));

/** Restricted: every baseline check but the overridden ones, plus the restricted checks. */
export const RESTRICTED: PrivilegeRule[] = [...BASELINE.filter((r) => !overridden.has(r.id)), ...RESTRICTED_ONLY.map(([r]) => r)];

export const PSS_LEVELS = { baseline: BASELINE, restricted: RESTRICTED } as const;
