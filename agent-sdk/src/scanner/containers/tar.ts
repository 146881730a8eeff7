import { tarChecksumOk } from '../formats.ts';
import { ContainerError, type Member, type UnpackBudget } from '../types.ts';

/**
 * Reads a tar archive (ustar, with GNU long names and pax `path` records). Regular files become members; links,
 * directories and devices carry no content to scan.
 */
export function readTar(data: Uint8Array, budget: UnpackBudget): Member[] {
  const members: Member[] = [];
  const text = new TextDecoder();
  const field = (p: number, length: number) => text.decode(data.subarray(p, p + length)).replace(/\0.*$/s, '');
  let p = 0;
  let longName: string | undefined;
  while (p + 512 <= data.length) {
    const header = data.subarray(p, p + 512);
    if (header.every((b) => b === 0)) break;
    if (!tarChecksumOk(header)) throw new ContainerError('corrupt', `bad tar header checksum at byte ${p}`);
    const size = parseSize(header);
    const type = String.fromCharCode(header[156]!);
    const prefix = field(p + 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(p, 100)}` : field(p, 100));
    longName = undefined;
    const start = p + 512;
    const body = data.subarray(start, start + size);
    if (body.length !== size) throw new ContainerError('corrupt', `tar member ${name} is cut short`);
    p = start + Math.ceil(size / 512) * 512;
    if (type === 'L') longName = text.decode(body).replace(/\0.*$/s, '');
    else if (type === 'x') longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text.decode(body))?.[1];
    else if (type === '0' || type === '\0' || type === '7') {
      if (size > budget.maxMemberBytes) throw new ContainerError('limit', `tar member ${name} is ${size} bytes`, 'objectSize');
      if (size > budget.remainingBytes) throw new ContainerError('limit', 'tar members exceed the total size limit', 'totalSize');
      if (budget.remainingEntries <= 0) throw new ContainerError('limit', 'too many members', 'entries');
      budget.remainingBytes -= size;
      budget.remainingEntries -= 1;
      members.push({ name, data: body });
    }
  }
  return members;
}

/** Octal, or GNU base-256 for sizes of 8 GiB and more. */
function parseSize(header: Uint8Array): number {
  if (header[124]! & 0x80) {
    let n = 0;
    for (let i = 125; i < 136; i++) n = n * 256 + header[i]!;
    return n;
  }
  const octal = new TextDecoder().decode(header.subarray(124, 136)).replace(/[\0 ]/g, '');
  const size = octal === '' ? 0 : parseInt(octal, 8);
  if (!Number.isSafeInteger(size)) throw new ContainerError('corrupt', 'bad tar size field');
  return size;
}
