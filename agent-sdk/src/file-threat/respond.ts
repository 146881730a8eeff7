import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { FileThreatProtectionSettings } from '../../../schema/file-threat-protection.ts';
import type { Verdict } from '../scanner/types.ts';
import { actionOf, applyActions, type ActionDeps } from './actions.ts';
import type { FileIdentity } from './cache.ts';
import { fileThreatEvent, type ContainerTarget } from './events.ts';
import type { QueuedFile } from './scan-queue.ts';

export interface Finding {
  target: ContainerTarget;
  file: QueuedFile;
  verdict: Exclude<Verdict, { verdict: 'clean' }>;
  identity: FileIdentity;
  size: number;
  digest?: string;
}

/**
 * What happens to a file that is not clean: a detection is acted on (first action, then the second if it failed)
 * when the settings are in enforce mode and a covering policy is in Enforce mode, and reported either way; a file
 * not fully scanned is reported only. Answers its `fileThreat` audit event.
 *
 * @example
 * ```ts
 * const event = await respond(finding, settings, { quarantineDir, newId: uuidv7, now: () => new Date() }, revision);
 * event.file?.actions; // [{ action: 'disinfect', ok: true, detail: 'quarantined as ..., then removed' }]
 * ```
 */
export async function respond(f: Finding, settings: FileThreatProtectionSettings, deps: ActionDeps, revision: number): Promise<AuditEventV1> {
  const { target: t, verdict: v } = f;
  const enforce = settings.interceptorMode === 'enforce' && t.bindings.some((b) => b.mode === 'enforce');
  const actions =
    v.verdict === 'infected' && enforce
      ? await applyActions(
          { root: t.root, path: f.file.path, identity: f.identity, meta: { container: t.container, pod: t.pod, namespace: t.namespace, signature: v.name, ...(f.digest ? { digest: f.digest } : {}) } },
          actionOf(settings.firstAction),
          actionOf(settings.secondAction),
          deps,
        )
      : [];
  return fileThreatEvent(
    { target: t, path: f.file.path, verdict: v, trigger: f.file.trigger, enforce, actions, size: f.size, ...(f.digest ? { digest: f.digest } : {}) },
    { revision, now: deps.now(), newId: deps.newId },
  );
}
