import { basename } from 'node:path';
import { BundleClient, type BundleClientOptions } from '../bundle/client.ts';
import { FileBundleStore, STATE_FILES } from '../bundle/store.ts';
import type { AgentFiles } from '../node/agent-files.ts';
import { writeFileAtomic, type AtomicWriteHooks } from '../node/atomic-write.ts';
import { FileTrustStore } from '../node/trust-file.ts';

/** A client over the agent's files: its state directory as the bundle store, its trust file as the trust store. */
export function agentClient(files: AgentFiles, extra: Partial<BundleClientOptions> = {}): BundleClient {
  const { url, issuer, tenantId, clusterId } = files.config;
  const hooks = crashTestHooks();
  return new BundleClient({
    url, credential: files.credential, trust: files.trust, issuer, tenantId, clusterId,
    store: new FileBundleStore(files.stateDir, hooks),
    trustStore: new FileTrustStore(files.trustFile),
    ...(hooks.beforeActivate ? { beforeActivate: hooks.beforeActivate } : {}),
    ...extra,
  });
}

/**
 * Test only: points where the agent stops dead, so a crash test can SIGKILL it there. Inert unless set; each
 * variable names a marker file, written (atomically) when the agent reaches the point, after which it never returns:
 *
 * - `PALISADE_AGENT_TEST_PAUSE_BEFORE_ACTIVATE`: a downloaded bundle passed verification; nothing persisted yet.
 * - `PALISADE_AGENT_TEST_PAUSE_BEFORE_RENAME`: the new `bundle.jws` is complete in its temporary file, not renamed.
 */
export function crashTestHooks(env: NodeJS.ProcessEnv = process.env): AtomicWriteHooks & Pick<BundleClientOptions, 'beforeActivate'> {
  const activate = env.PALISADE_AGENT_TEST_PAUSE_BEFORE_ACTIVATE;
  const rename = env.PALISADE_AGENT_TEST_PAUSE_BEFORE_RENAME;
  return {
    ...(activate ? { beforeActivate: (b) => pause(activate, { at: 'before_activate', revision: b.revision, digest: b.digest }) } : {}),
    ...(rename ? { beforeRename: async (tmp, path) => void (basename(path) === STATE_FILES.jws && (await pause(rename, { at: 'before_rename', tmp, path }))) } : {}),
  };
}

async function pause(marker: string, detail: Record<string, unknown>): Promise<never> {
  await writeFileAtomic(marker, JSON.stringify({ pid: process.pid, ...detail }));
  setInterval(() => undefined, 1 << 30); // keeps the process alive while everything else waits
  return new Promise<never>(() => undefined);
}
