import { describe, expect, it } from 'vitest';
import { AuditEventV1 } from '../../schema/audit-event.ts';
import { ENFORCEABLE_SECTIONS } from '../../schema/enforcement.ts';
import { ADMISSION_SECTIONS, auditEvents, evaluate } from '../../agent-sdk/src/engine/index.ts';
import { CHECKS } from '../../agent-sdk/src/engine/checks/index.ts';
import { uuidv7 } from '../../agent-sdk/src/webhook/uuid.ts';
import { buildBundle } from './support/bundle.ts';

const now = new Date('2026-06-01T00:00:00Z');
const { bundle } = buildBundle({
  runtimeProfiles: ['web'],
  policies: [
    { name: 'mixed', mode: 'enforce', fileThreatProtection: { enabled: true }, limitContainerPrivileges: { enabled: true, settings: ['privileged'] }, containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: ['web'] }] } },
    { name: 'elsewhere', mode: 'audit', scopes: [[{ type: 'cluster', cluster: 'other-*' }]], fileThreatProtection: { enabled: true } },
    { name: 'enforced-only', mode: 'audit', capabilitiesBlock: { enabled: true, capabilities: ['SYS_ADMIN'] } },
  ],
});
const pod = (privileged: boolean) => ({ kind: 'Pod', metadata: { name: 'p', labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1', securityContext: { privileged } }] } });

describe('sections a policy enables but admission does not enforce', () => {
  it('are derived from CHECKS: a section is enforced exactly when a check names it', () => {
    for (const section of ENFORCEABLE_SECTIONS) expect(ADMISSION_SECTIONS.includes(section), section).toBe(CHECKS.some((c) => c.section === section));
    expect(ADMISSION_SECTIONS).not.toContain('containerRuntimeProfiles');
    expect(ADMISSION_SECTIONS).not.toContain('fileThreatProtection');
  });

  it('are listed per applied policy (not for policies out of scope), and their rules are skip', () => {
    const d = evaluate(bundle, { object: pod(false) }, { now, bundleRevision: 3 });
    expect(d.allowed).toBe(true);
    expect(d.notEnforced).toEqual([{ policy: { id: expect.any(String), name: 'mixed', revision: 1 }, mode: 'enforce', sections: ['containerRuntimeProfiles', 'fileThreatProtection'] }]);
    expect(d.policies[0]!.rules).toContainEqual({ check: 'fileThreatProtection', status: 'skip' });
    expect(d.policies[1]).toMatchObject({ status: 'skipped', reason: 'outOfScope' });
  });

  it('are recorded on the audit event of the decision', () => {
    const d = evaluate(bundle, { object: pod(true) }, { now, bundleRevision: 3 });
    const events = auditEvents(d, { object: pod(true) }, { newId: () => uuidv7(now.getTime()), now });
    // One event per decision; a privileged container also breaks "enforced-only" (privileged holds every capability).
    expect(events).toHaveLength(1);
    expect(events[0]!.notEnforced).toEqual(['containerRuntimeProfiles', 'fileThreatProtection']);
    expect(AuditEventV1.parse(events[0])).toEqual(events[0]);
  });
});
