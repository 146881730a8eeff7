import { crc32, inflateRawSync } from 'node:zlib';
import { ContainerError, type Member, type UnpackBudget } from '../types.ts';

/**
 * Reads a zip from its central directory. node:zlib inflates (native, faster than any JavaScript inflater), each
 * member into at most its declared size plus one byte, and its CRC-32 and length must then equal the directory's: a
 * member that lies about its size is an error, never a silently truncated (and so falsely clean) member.
 */
export function readZip(data: Uint8Array, budget: UnpackBudget): Member[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const eocd = findEndOfCentralDirectory(data, view);
  const count = view.getUint16(eocd + 10, true);
  const cdSize = view.getUint32(eocd + 12, true);
  const cdOffset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || cdOffset === 0xffffffff) throw new ContainerError('unsupported', 'zip64 archives are not supported');
  // A self-extracting stub (or any prefix) shifts every offset the directory records.
  const shift = eocd - (cdOffset + cdSize);
  if (shift < 0) throw new ContainerError('corrupt', 'zip central directory lies outside the file');
  if (count > budget.remainingEntries) throw new ContainerError('limit', `zip has ${count} members`, 'entries');
  const members: Member[] = [];
  let p = cdOffset + shift;
  for (let n = 0; n < count; n++) {
    if (p + 46 > data.length || view.getUint32(p, true) !== 0x02014b50) throw new ContainerError('corrupt', 'bad zip central directory entry');
    const flags = view.getUint16(p + 8, true);
    const method = view.getUint16(p + 10, true);
    const crc = view.getUint32(p + 16, true);
    const packed = view.getUint32(p + 20, true);
    const size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    const local = view.getUint32(p + 42, true) + shift;
    const name = new TextDecoder().decode(data.subarray(p + 46, p + 46 + nameLength));
    p += 46 + nameLength + extraLength + commentLength;
    if (name.endsWith('/')) continue;
    if (flags & 0x1) {
      members.push({ name, data: new Uint8Array(0), encrypted: true });
      continue;
    }
    if (size > budget.maxMemberBytes) throw new ContainerError('limit', `zip member ${name} is ${size} bytes`, 'objectSize');
    if (size > budget.remainingBytes) throw new ContainerError('limit', `zip members exceed the total size limit`, 'totalSize');
    if (packed > 0 && size / packed > budget.maxCompressionRatio) {
      throw new ContainerError('limit', `zip member ${name} expands ${Math.round(size / packed)}x`, 'compressionRatio');
    }
    if (local + 30 > data.length || view.getUint32(local, true) !== 0x04034b50) throw new ContainerError('corrupt', `bad local header for ${name}`);
    const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    const body = data.subarray(start, start + packed);
    if (body.length !== packed) throw new ContainerError('corrupt', `zip member ${name} is cut short`);
    let content: Uint8Array;
    if (method === 0) content = body;
    else if (method === 8) {
      try {
        content = inflateRawSync(body, { maxOutputLength: size + 1 });
      } catch (err) {
        throw new ContainerError('corrupt', `zip member ${name} does not inflate to its declared ${size} bytes`, undefined, { cause: err });
      }
    } else throw new ContainerError('unsupported', `zip member ${name} uses compression method ${method}`);
    if (content.length !== size || crc32(content) !== crc) throw new ContainerError('corrupt', `zip member ${name} fails its size or CRC check`);
    budget.remainingBytes -= size;
    budget.remainingEntries -= 1;
    members.push({ name, data: content });
  }
  return members;
}

function findEndOfCentralDirectory(data: Uint8Array, view: DataView): number {
  // The record is 22 bytes plus a comment of at most 65,535 bytes, at the end of the file.
  for (let p = data.length - 22; p >= Math.max(0, data.length - 22 - 65535); p--) {
    if (view.getUint32(p, true) === 0x06054b50) return p;
  }
  throw new ContainerError('corrupt', 'no zip end-of-central-directory record');
}
