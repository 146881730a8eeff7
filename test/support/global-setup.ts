import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureCurrent } from '../../build/build.mjs';
import { openPglite } from '../../workers/node.ts';

/**
 * Migrates one PGlite once and hands its dump to every test file, which restores it in a fraction of the time. Brings
 * the builds in dist/ up to date once, so the test files that start the agent or the server as processes (each
 * rebuilding a stale build itself) do not all rebuild at once after a source edit.
 */
export default async function setup(project: TestProject) {
  await Promise.all([ensureCurrent('agent'), ensureCurrent('server')]);
  const dir = mkdtempSync(join(tmpdir(), 'palisade-test-'));
  const database = await openPglite();
  const dump = await database.client.dumpDataDir('gzip');
  await database.close();
  const file = join(dir, 'migrated.tar.gz');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
  project.provide('migratedDump', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    migratedDump: string;
  }
}
