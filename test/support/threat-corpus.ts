import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import SevenZip from '7z-wasm';
import { parsePattern } from '../../schema/file-signature-pattern.ts';
import type { BodySignature, FileSignature, HashSignature } from '../../schema/file-signatures.ts';
import { prng } from './prng.ts';

/**
 * A deterministic corpus with ground truth for the file scanner: signatures (body patterns using every piece of the
 * hex syntax, MD5 and SHA-256 hashes), and files that are clean or carry exactly one known threat, bare or inside
 * zip (also zip-in-zip), tar.gz, tar.bz2, tar.xz, 7z, RAR and mail. The same signatures export as ClamAV `.ndb`/`.hdb`/
 * `.hsb`, so ClamAV can scan the same corpus in the benchmark.
 */

export interface CorpusFile {
  name: string;
  data: Uint8Array;
  /** The signature that must be found, or undefined for a clean file. */
  threat?: string;
}

export interface ThreatCorpus {
  signatures: FileSignature[];
  files: CorpusFile[];
}

type Random = () => number;

const int = (r: Random, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
const hex = (b: number) => b.toString(16).padStart(2, '0');

function randomBytes(r: Random, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}

const WORDS = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua'.split(' ');
function text(r: Random, n: number): Uint8Array {
  let s = '';
  while (s.length < n) s += `${WORDS[int(r, 0, WORDS.length - 1)]}${r() < 0.1 ? '.\n' : ' '}`;
  return new TextEncoder().encode(s.slice(0, n));
}

/** A body pattern of 3 parts that uses fixed bytes, `??`, nibbles, alternatives and every gap form. */
function bodyPattern(r: Random, i: number): string {
  const fixed = (n: number) => Array.from(randomBytes(r, n), hex).join('');
  const wild = () => [`??`, `${hex(int(r, 0, 255))[0]}?`, `?${hex(int(r, 0, 255))[1]}`, `(${hex(int(r, 0, 255))}|${hex(int(r, 0, 255))})`][int(r, 0, 3)];
  const gaps = ['*', `{${int(r, 1, 8)}}`, `{-${int(r, 1, 8)}}`, `{${int(r, 1, 4)}-}`, `{${int(r, 0, 4)}-${int(r, 5, 12)}}`];
  const gap = () => gaps[(i + int(r, 0, 4)) % gaps.length];
  return `${fixed(int(r, 6, 10))}${wild()}${fixed(3)}${gap()}${fixed(int(r, 4, 8))}${gap()}${fixed(2)}${wild()}${fixed(4)}`;
}

/** Bytes that match `pattern`: wildcards filled at random, gaps at random lengths within their bounds. */
export function instantiate(pattern: string, r: Random): Uint8Array {
  const { parts, gaps } = parsePattern(pattern);
  const out: number[] = [];
  parts.forEach((part, p) => {
    if (p > 0) {
      const g = gaps[p - 1]!;
      const length = int(r, g.min, Math.min(g.max, g.min + 16));
      for (let k = 0; k < length; k++) out.push(int(r, 0, 255));
    }
    for (const b of part) {
      if (b.set) {
        const options = [...b.set.keys()].filter((k) => b.set![k] === 1);
        out.push(options[int(r, 0, options.length - 1)]!);
      } else out.push(b.value | (int(r, 0, 255) & ~b.mask & 0xff));
    }
  });
  return Uint8Array.from(out);
}

function plant(r: Random, host: Uint8Array, payload: Uint8Array): Uint8Array {
  const at = int(r, 0, host.length);
  const out = new Uint8Array(host.length + payload.length);
  out.set(host.subarray(0, at));
  out.set(payload, at);
  out.set(host.subarray(at), at + payload.length);
  return out;
}

export function zip(members: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const m of members) {
    const name = Buffer.from(m.name);
    const packed = deflateRawSync(m.data);
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(8, 8);
    header.writeUInt32LE(crc32(m.data), 14);
    header.writeUInt32LE(packed.length, 18);
    header.writeUInt32LE(m.data.length, 22);
    header.writeUInt16LE(name.length, 26);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE(20, 4);
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(8, 10);
    entry.writeUInt32LE(crc32(m.data), 16);
    entry.writeUInt32LE(packed.length, 20);
    entry.writeUInt32LE(m.data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    entry.writeUInt32LE(offset, 42);
    locals.push(header, name, packed);
    central.push(entry, name);
    offset += 30 + name.length + packed.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(members.length, 8);
  end.writeUInt16LE(members.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

export function tar(members: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const m of members) {
    const h = Buffer.alloc(512);
    h.write(m.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${m.data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write('0', 156);
    h.write('ustar\x0000', 257);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, Buffer.from(m.data), Buffer.alloc((512 - (m.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** A RAR 4 archive with stored (uncompressed) members, as `rar a -m0` writes it. */
export function rar(members: Array<{ name: string; data: Uint8Array }>): Uint8Array {
  const block = (type: number, flags: number, body: Buffer) => {
    const head = Buffer.alloc(7);
    head.writeUInt8(type, 2);
    head.writeUInt16LE(flags, 3);
    head.writeUInt16LE(7 + body.length, 5);
    const crc = crc32(Buffer.concat([head.subarray(2), body])) & 0xffff;
    head.writeUInt16LE(crc, 0);
    return Buffer.concat([head, body]);
  };
  const parts = [Buffer.from('Rar!\x1a\x07\x00', 'latin1'), block(0x73, 0, Buffer.alloc(6))];
  for (const m of members) {
    const name = Buffer.from(m.name);
    const fields = Buffer.alloc(25);
    fields.writeUInt32LE(m.data.length, 0);
    fields.writeUInt32LE(m.data.length, 4);
    fields.writeUInt8(3, 8); // host OS: Unix
    fields.writeUInt32LE(crc32(m.data), 9);
    fields.writeUInt32LE(0x5a210000, 13);
    fields.writeUInt8(20, 17);
    fields.writeUInt8(0x30, 18); // method: store
    fields.writeUInt16LE(name.length, 19);
    fields.writeUInt32LE(0o100644 << 0, 21);
    parts.push(block(0x74, 0x8000, Buffer.concat([fields, name])), Buffer.from(m.data));
  }
  parts.push(block(0x7b, 0x4000, Buffer.alloc(0)));
  return Buffer.concat(parts);
}

export async function sevenZip(members: Array<{ name: string; data: Uint8Array }>): Promise<Uint8Array> {
  const module = await SevenZip({ print: () => {}, printErr: () => {} });
  module.FS.mkdir('/src');
  module.FS.chdir('/src');
  for (const m of members) module.FS.writeFile(m.name, m.data);
  module.callMain(['a', '-bso0', '/out.7z', ...members.map((m) => m.name)]);
  return module.FS.readFile('/out.7z');
}

const compress = (tool: 'bzip2' | 'xz', data: Uint8Array) => new Uint8Array(execFileSync(tool, ['-c'], { input: data, maxBuffer: 1 << 30 }));

export function mail(parts: { subject: string; body?: string; attachments?: Array<{ name: string; type: string; data: Uint8Array; qp?: boolean }> }): Uint8Array {
  const boundary = `b${createHash('sha1').update(parts.subject).digest('hex').slice(0, 16)}`;
  const lines = [
    'From: Alice <alice@example.com>',
    'To: Bob <bob@example.com>',
    `Subject: ${parts.subject}`,
    'Date: Tue, 01 Dec 2026 10:00:00 +0000',
    'Message-ID: <1@example.com>',
    'MIME-Version: 1.0',
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    parts.body ?? 'Hello Bob.',
  ];
  for (const a of parts.attachments ?? []) {
    lines.push(`--${boundary}`, `Content-Type: ${a.type}; name="${a.name}"`, `Content-Disposition: attachment; filename="${a.name}"`);
    if (a.type === 'message/rfc822') lines.push('', Buffer.from(a.data).toString('latin1'));
    else if (a.qp) lines.push('Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(a.data));
    else lines.push('Content-Transfer-Encoding: base64', '', Buffer.from(a.data).toString('base64').replace(/.{76}/g, '$&\r\n'));
  }
  lines.push(`--${boundary}--`, '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

function quotedPrintable(data: Uint8Array): string {
  let out = '';
  let line = 0;
  for (const b of data) {
    const piece = (b >= 33 && b <= 126 && b !== 61) ? String.fromCharCode(b) : `=${hex(b).toUpperCase()}`;
    if (line + piece.length > 75) {
      out += '=\r\n';
      line = 0;
    }
    out += piece;
    line += piece.length;
  }
  return out;
}

/**
 * The corpus: `size` scales the number of files. Every threat file contains exactly one planted signature; every
 * other file is clean. Names say what the file is (`zip-in-zip-3.zip`, `infected-12.bin`, ...).
 */
export async function threatCorpus(seed = 1, size = 1): Promise<ThreatCorpus> {
  const r = prng(seed);
  const body: BodySignature[] = Array.from({ length: 200 }, (_, i) => ({
    type: 'body',
    name: `Palisade.Test.Body-${i}`,
    target: 'any',
    offset: '*',
    pattern: bodyPattern(r, i),
  }));
  const files: CorpusFile[] = [];
  const hashTargets = Array.from({ length: 20 }, () => randomBytes(r, int(r, 100, 5000)));
  const hashes: HashSignature[] = hashTargets.map((data, i) => ({
    type: 'hash',
    name: `Palisade.Test.Hash-${i}`,
    algorithm: i % 2 === 0 ? 'md5' : 'sha256',
    digest: createHash(i % 2 === 0 ? 'md5' : 'sha256').update(data).digest('hex'),
    size: i % 4 === 3 ? null : data.length,
  }));
  const infected = (): CorpusFile => {
    const s = body[int(r, 0, body.length - 1)]!;
    const host = r() < 0.5 ? randomBytes(r, int(r, 1000, 60_000)) : text(r, int(r, 1000, 60_000));
    return { name: '', data: plant(r, host, instantiate(s.pattern, r)), threat: s.name };
  };
  const clean = (): CorpusFile => ({ name: '', data: r() < 0.5 ? randomBytes(r, int(r, 1000, 60_000)) : text(r, int(r, 1000, 60_000)) });
  const eicar = new TextEncoder().encode('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
  files.push({ name: 'eicar.com', data: eicar, threat: 'Eicar-Test-Signature' });
  hashTargets.forEach((data, i) => files.push({ name: `hash-target-${i}.bin`, data, threat: hashes[i]!.name }));
  for (let n = 0; n < 20 * size; n++) {
    const bad = infected();
    files.push({ ...bad, name: `infected-${n}.bin` });
    files.push({ ...clean(), name: `clean-${n}.${n % 2 ? 'txt' : 'bin'}` });
    const inner = infected();
    const member = { name: `payload-${n}.bin`, data: inner.data };
    const withThreat = (name: string, data: Uint8Array): CorpusFile => ({ name, data, threat: inner.threat });
    switch (n % 8) {
      case 0:
        files.push(withThreat(`zip-${n}.zip`, zip([{ name: 'readme.txt', data: clean().data }, member])));
        files.push(withThreat(`zip-in-zip-${n}.zip`, zip([{ name: 'l1.zip', data: zip([{ name: 'l2.zip', data: zip([member]) }]) }])));
        break;
      case 1:
        files.push(withThreat(`tar-${n}.tar.gz`, gzipSync(tar([{ name: 'etc/config', data: clean().data }, member]))));
        break;
      case 2:
        files.push(withThreat(`tar-${n}.tar.bz2`, compress('bzip2', tar([member]))));
        break;
      case 3:
        files.push(withThreat(`tar-${n}.tar.xz`, compress('xz', tar([member]))));
        break;
      case 4:
        files.push(withThreat(`archive-${n}.7z`, await sevenZip([member])));
        break;
      case 5:
        files.push(withThreat(`archive-${n}.rar`, rar([{ name: 'notes.txt', data: clean().data }, member])));
        break;
      case 6:
        files.push(withThreat(`mail-${n}.eml`, mail({ subject: `Invoice ${n}`, attachments: [{ name: 'invoice.bin', type: 'application/octet-stream', data: inner.data }] })));
        break;
      case 7: {
        const attached = mail({ subject: `Inner ${n}`, attachments: [{ name: 'inner.zip', type: 'application/zip', data: zip([member]) }] });
        files.push(withThreat(`mail-nested-${n}.eml`, mail({ subject: `Fwd ${n}`, attachments: [{ name: 'forwarded.eml', type: 'message/rfc822', data: attached }] })));
        files.push(withThreat(`mail-qp-${n}.eml`, mail({ subject: `QP ${n}`, attachments: [{ name: 'data.bin', type: 'application/octet-stream', data: inner.data, qp: true }] })));
        break;
      }
    }
    files.push({ name: `clean-zip-${n}.zip`, data: zip([{ name: 'a.txt', data: clean().data }, { name: 'b.bin', data: clean().data }]) });
    if (n % 4 === 0) files.push({ name: `clean-mail-${n}.eml`, data: mail({ subject: `Hi ${n}`, attachments: [{ name: 'c.bin', type: 'application/octet-stream', data: clean().data }] }) });
  }
  return { signatures: [...body, ...hashes], files };
}

/** The corpus signatures as ClamAV database files. */
export function toClamAv(signatures: FileSignature[]): { ndb: string; hdb: string; hsb: string } {
  const ndb: string[] = [];
  const hdb: string[] = [];
  const hsb: string[] = [];
  for (const s of signatures) {
    if (s.type === 'body') ndb.push(`${s.name}:0:${s.offset}:${s.pattern}`);
    else (s.algorithm === 'md5' ? hdb : hsb).push(`${s.digest}:${s.size ?? '*'}:${s.name}${s.size === null ? ':73' : ''}`);
  }
  return { ndb: `${ndb.join('\n')}\n`, hdb: `${hdb.join('\n')}\n`, hsb: `${hsb.join('\n')}\n` };
}
