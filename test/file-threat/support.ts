import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEventV1 } from '../../schema/audit-event.ts';
import type { BundleContentV1 } from '../../schema/bundle.ts';
import { FileThreatProtectionSettingsInput } from '../../schema/file-threat-protection.ts';
import type { PodInfo } from '../../agent-sdk/src/runtime/mapping.ts';
import { buildBundle } from '../engine/support/bundle.ts';

export const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
/** A body signature of our own, planted in the middle of a file inside a zip. */
export const PLANTED_HEX = '50616c69736164652d706c616e7465642d746872656174';
export const PLANTED = Buffer.from(PLANTED_HEX, 'hex');
/** A file known only by its SHA-256. */
export const HASH_TARGET = Buffer.from('a harmless-looking file known only by its hash\n');

/** ClamAV files as a tenant already has them: one body signature, one SHA-256. */
export function writeSignatures(dir: string, extra: string[] = []): string[] {
  mkdirSync(dir, { recursive: true });
  const ndb = join(dir, 'test.ndb');
  const hsb = join(dir, 'test.hsb');
  writeFileSync(ndb, [`Palisade.Test.Planted:0:*:${PLANTED_HEX}`, ...extra].join('\n') + '\n');
  writeFileSync(hsb, `${createHash('sha256').update(HASH_TARGET).digest('hex')}:${HASH_TARGET.length}:Palisade.Test.HashTarget\n`);
  return [ndb, hsb];
}

export const CONTAINER_ID = 'a3f1c2d4e5b6a7980123456789abcdef0123456789abcdef0123456789abcdef';

/**
 * A tree standing in for `/proc`: pid 4242 whose cgroup names the container, with `root/` a plain directory where
 * `/proc/4242/root` would be, and an unrelated pid 77.
 */
export function fakeProc(dir: string, id = CONTAINER_ID, pid = 4242): string {
  mkdirSync(join(dir, String(pid), 'root'), { recursive: true });
  writeFileSync(join(dir, String(pid), 'cgroup'), `0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-${id}.scope\n`);
  mkdirSync(join(dir, '77'), { recursive: true });
  writeFileSync(join(dir, '77', 'cgroup'), '0::/system.slice/containerd.service\n');
  return join(dir, String(pid), 'root');
}

export const pod = (id = CONTAINER_ID): PodInfo => ({
  namespace: 'shop', name: 'web-1', labels: { app: 'web' }, owners: [], containers: [{ name: 'app', image: 'nginx:1.25' }], containerIds: { app: id },
});

/** A real bundle whose one policy turns File Threat Protection on, with these tenant settings. */
export function ftpBundle(settings: Record<string, unknown>, mode: 'audit' | 'enforce' = 'enforce'): BundleContentV1 {
  const { bundle } = buildBundle({ policies: [{ name: 'ftp', mode, fileThreatProtection: { enabled: true } }] });
  return { ...bundle, fileThreatProtection: FileThreatProtectionSettingsInput.parse(settings) };
}

export const until = async (what: string, cond: () => boolean | Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** The event about a container path, once it arrives. */
export async function eventFor(events: AuditEventV1[], path: string, ms?: number): Promise<AuditEventV1> {
  await until(`an event for ${path}`, () => events.some((e) => e.file?.path === path), ms);
  return events.find((e) => e.file?.path === path)!;
}

export const lsattr = (path: string) => execFileSync('lsattr', [path], { encoding: 'utf8' }).split(' ')[0]!;
