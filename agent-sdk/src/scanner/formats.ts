import type { SignatureTarget } from '../../../schema/file-signatures.ts';

/** Container formats the scanner opens, recognized by magic bytes, never by file name. */
export type ContainerFormat = 'zip' | 'gzip' | 'bzip2' | 'xz' | 'tar' | '7z' | 'rar' | 'mail';

const startsWith = (data: Uint8Array, magic: number[], at = 0) => magic.every((b, i) => data[at + i] === b);

const ZIP_LOCAL = [0x50, 0x4b, 0x03, 0x04];
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06];
const SEVEN_ZIP = [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c];
const RAR = [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07];
const XZ = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72];

/** The container format of `data`, if it is one (mail by a header heuristic: two or more mail headers first). */
export function containerFormat(data: Uint8Array): ContainerFormat | undefined {
  if (startsWith(data, ZIP_LOCAL) || startsWith(data, ZIP_EMPTY)) return 'zip';
  if (startsWith(data, [0x1f, 0x8b])) return 'gzip';
  if (startsWith(data, [0x42, 0x5a, 0x68]) && data[3]! >= 0x31 && data[3]! <= 0x39) return 'bzip2';
  if (startsWith(data, XZ)) return 'xz';
  if (startsWith(data, SEVEN_ZIP)) return '7z';
  if (startsWith(data, RAR)) return 'rar';
  if (data.length >= 512 && startsWith(data, USTAR, 257) && tarChecksumOk(data)) return 'tar';
  if (looksLikeMail(data)) return 'mail';
  return undefined;
}

/** The header checksum of the first tar block: the sum of its bytes with the checksum field read as spaces. */
export function tarChecksumOk(block: Uint8Array): boolean {
  const stored = parseInt(new TextDecoder().decode(block.subarray(148, 156)).replace(/[\0 ]+/g, ' ').trim(), 8);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return stored === sum;
}

const MAIL_HEADERS = /^(received|from|to|subject|date|message-id|mime-version|content-type|return-path|delivered-to|x-[a-z0-9-]+):/i;

/** RFC 5322 headers up to the first blank line, at least two of which are mail headers. */
function looksLikeMail(data: Uint8Array): boolean {
  const head = new TextDecoder('latin1').decode(data.subarray(0, 4096));
  const end = head.search(/\r?\n\r?\n/);
  if (end <= 0) return false;
  const lines = head.slice(0, end).split(/\r?\n/);
  if (!/^[\x21-\x39\x3b-\x7e]+:/.test(lines[0]!)) return false;
  return lines.filter((l) => MAIL_HEADERS.test(l)).length >= 2;
}

/** The executable type a body signature may target. */
export function executableType(data: Uint8Array): SignatureTarget {
  if (startsWith(data, [0x4d, 0x5a])) return 'pe';
  if (startsWith(data, [0x7f, 0x45, 0x4c, 0x46])) return 'elf';
  const magic = data.length >= 4 ? ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0 : 0;
  const MACHO = [0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe, 0xcafebabe];
  return MACHO.includes(magic) ? 'macho' : 'any';
}

/**
 * For a PE file, where an appended archive (a self-extracting archive's payload) begins: a zip's end-of-central-
 * directory record tells it; RAR and 7z are found by their signature after the PE headers.
 */
export function selfExtractingPayload(data: Uint8Array): { offset: number; format: ContainerFormat } | undefined {
  if (executableType(data) !== 'pe') return undefined;
  for (const [magic, format] of [
    [RAR, 'rar'],
    [SEVEN_ZIP, '7z'],
  ] as const) {
    const at = indexOf(data, magic, 64);
    if (at > 0) return { offset: at, format };
  }
  const zip = indexOf(data, ZIP_LOCAL, 64);
  return zip > 0 ? { offset: zip, format: 'zip' } : undefined;
}

function indexOf(data: Uint8Array, magic: readonly number[], from: number): number {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).indexOf(Buffer.from(magic), from);
}
