import { open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory } from '../node/atomic-write.ts';

/** Segment files are named after the sequence number of their first record, zero-padded so names sort in order. */
const SEGMENT = /^(\d{16})\.seg$/;

export const segmentPath = (dir: string, id: number): string => join(dir, `${String(id).padStart(16, '0')}.seg`);

/** The segment ids in `dir`, oldest first. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  return names.flatMap((n) => (SEGMENT.test(n) ? [Number(SEGMENT.exec(n)![1])] : [])).sort((a, b) => a - b);
}

/** Creates a new, empty segment and makes its name durable (directory fsync). */
export async function createSegment(dir: string, id: number): Promise<FileHandle> {
  const handle = await open(segmentPath(dir, id), 'w', 0o600);
  await syncDirectory(dir);
  return handle;
}

/** Appends at `position` and waits until the bytes are on disk. */
export async function writeDurably(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
  await handle.datasync();
}

export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buffer.subarray(0, done);
  } finally {
    await handle.close();
  }
}

/** Cuts a file back to `size` bytes (a torn tail, or a failed append) and syncs it. */
export async function truncateDurably(path: string, size: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.truncate(size);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export const removeFile = (path: string): Promise<void> => rm(path, { force: true });

