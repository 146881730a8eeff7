import { z } from 'zod';

/** Policy sections a running agent component can enforce: what agents report, and what the control plane compares. */
export const ENFORCEABLE_SECTIONS = [
  'bestPracticeCheck',
  'blockNonCompliantImages',
  'blockUnregisteredImages',
  'capabilitiesBlock',
  'containerRuntimeProfiles',
  'fileThreatProtection',
  'imageContentProtection',
  'limitContainerPrivileges',
  'registriesAllowed',
  'volumesBlocked',
] as const;
export const EnforceableSection = z.enum(ENFORCEABLE_SECTIONS);
export type EnforceableSection = z.infer<typeof EnforceableSection>;

/** `admission`: the validating webhook Deployment; `node`: the per-node DaemonSet (runtime events, files). */
export const AgentComponent = z.enum(['admission', 'node']);
export type AgentComponent = z.infer<typeof AgentComponent>;

/** What one running agent instance enforces, sent in its status report. */
export const AgentEnforcement = z.strictObject({
  component: AgentComponent,
  /** The pod or node name of this instance (node agents: the node). */
  instance: z.string().min(1).max(253),
  sections: z.array(EnforceableSection).max(ENFORCEABLE_SECTIONS.length),
  /** Sections enforced in detect-only fashion (e.g. Falco as the only sensor): reported, not blocked. */
  detectOnly: z.array(EnforceableSection).max(ENFORCEABLE_SECTIONS.length).default([]),
});
export type AgentEnforcement = z.infer<typeof AgentEnforcement>;
