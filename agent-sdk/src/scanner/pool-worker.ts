import { parentPort, workerData } from 'node:worker_threads';
import type { FileSignature } from '../../../schema/file-signatures.ts';
import { scanFile } from './scan-files.ts';
import { SignatureIndex } from './signature-index.ts';
import type { ScanOptions } from './types.ts';

/** One scanning thread of a `ScanPool`: compiles the signatures once, then scans the paths it is sent. */
const { signatures, options } = workerData as { signatures: FileSignature[]; options: ScanOptions };
const index = new SignatureIndex(signatures);
parentPort!.on('message', async ({ id, path }: { id: number; path: string }) => {
  try {
    parentPort!.postMessage({ id, result: await scanFile(index, options, path) });
  } catch (err) {
    parentPort!.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
parentPort!.postMessage({ ready: true });
