import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileThreatProtectionSettings } from '../../../schema/file-threat-protection.ts';
import { writeFileAtomic } from '../node/atomic-write.ts';
import type { FileIdentity } from './cache.ts';
import { checkedPath, openScanned } from './verify.ts';

export type FileAction = 'disinfect' | 'remove' | 'blockAccess';
export interface ActionOutcome {
  action: FileAction;
  ok: boolean;
  detail: string;
}

/** `recommended` is `disinfect`: keep a copy for the analyst, take the file away from the container. */
export const actionOf = (a: FileThreatProtectionSettings['firstAction']): FileAction => (a === 'recommended' ? 'disinfect' : a);

/** The file an action is about: the container's root on the host, its path inside, and what was scanned. */
export interface Suspect {
  root: string;
  path: string;
  identity: FileIdentity;
  /** Written into the quarantine metadata. */
  meta: { container: string; pod: string; namespace: string; signature: string; digest?: string };
}

export interface ActionDeps {
  quarantineDir: string;
  newId: () => string;
  now: () => Date;
  /** Sets the immutable attribute (`chattr +i`); absent or failing: the file is only made unreadable. */
  setImmutable?: (hostPath: string) => Promise<void>;
}

/**
 * The settings' first action, and the second when the first fails. `disinfect`: copy to the quarantine directory
 * (0700, copy 0600, metadata `.json`) then remove; `remove`: unlink; `blockAccess`: mode 000 on the open file and, if
 * the file system allows it, immutable. None of them reaches a descriptor a process already holds open: it keeps
 * reading a removed or blocked file. Mode 000 does not stop root in the container (CAP_DAC_OVERRIDE) nor the file's
 * owner (who may chmod it back); immutable stops both (unless the process holds CAP_LINUX_IMMUTABLE). Every action
 * first checks that the file is still the one scanned.
 */
export async function applyActions(s: Suspect, first: FileAction, second: FileAction, d: ActionDeps): Promise<ActionOutcome[]> {
  const a = await applyAction(s, first, d);
  if (a.ok || second === first) return [a];
  return [a, await applyAction(s, second, d)];
}

export async function applyAction(s: Suspect, action: FileAction, d: ActionDeps): Promise<ActionOutcome> {
  try {
    if (action === 'remove') {
      await unlink(await checkedPath(s.root, s.path, s.identity));
      return { action, ok: true, detail: 'removed' };
    }
    if (action === 'disinfect') {
      const id = await quarantine(s, d);
      await unlink(await checkedPath(s.root, s.path, s.identity));
      return { action, ok: true, detail: `quarantined as ${id}, then removed` };
    }
    const handle = await openScanned(s.root, s.path, s.identity);
    try {
      await handle.chmod(0);
    } finally {
      await handle.close();
    }
    if (!d.setImmutable) return { action, ok: true, detail: 'mode 000 (immutable attribute not available)' };
    try {
      await d.setImmutable(await checkedPath(s.root, s.path, s.identity));
      return { action, ok: true, detail: 'mode 000, immutable' };
    } catch (err) {
      return { action, ok: true, detail: `mode 000; not immutable: ${message(err)}` };
    }
  } catch (err) {
    return { action, ok: false, detail: message(err) };
  }
}

/** Copies the file (read from a checked descriptor) into the quarantine directory with its metadata; its id. */
async function quarantine(s: Suspect, d: ActionDeps): Promise<string> {
  await mkdir(d.quarantineDir, { recursive: true, mode: 0o700 });
  await chmod(d.quarantineDir, 0o700);
  const handle = await openScanned(s.root, s.path, s.identity);
  let bytes: Buffer;
  try {
    bytes = await handle.readFile();
  } finally {
    await handle.close();
  }
  const id = d.newId();
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  await writeFileAtomic(join(d.quarantineDir, `${id}.bin`), bytes, 0o600);
  const meta = { id, originalPath: s.path, ...s.meta, digest, size: bytes.length, time: d.now().toISOString() };
  await writeFileAtomic(join(d.quarantineDir, `${id}.json`), JSON.stringify(meta, null, 2) + '\n', 0o600);
  return id;
}

/** `chattr +i` on the node (e2fsprogs); fails where the binary or the file system's support is missing. */
export const chattrImmutable = (path: string): Promise<void> =>
  new Promise((resolve, reject) => execFile('chattr', ['+i', path], { timeout: 5000 }, (err, _out, stderr) => (err ? reject(new Error(stderr.trim() || err.message)) : resolve())));

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
