import { BodySignature, FileSignature, HashSignature, type SignatureTarget } from './file-signatures.ts';

/**
 * Imports the ClamAV database formats users already keep into Palisade's signature format:
 * - `.hdb`: `md5:size:name[:flevel...]`
 * - `.hsb`: `sha256:size:name[:flevel...]` (`size` may be `*`)
 * - `.ndb`: `name:target:offset:hexsignature[:min_flevel[:max_flevel]]`
 * Every line that cannot be enforced as written is reported with its number and reason, never dropped silently.
 */

export type ClamAvFormat = 'hdb' | 'hsb' | 'ndb';

export interface UnsupportedLine {
  line: number;
  reason: string;
}

export interface ClamAvImport {
  signatures: FileSignature[];
  unsupported: UnsupportedLine[];
}

/** ClamAV target types we recognize; the others (OLE2, HTML, mail, graphics, PDF, ...) are reported unsupported. */
const TARGETS: Record<string, SignatureTarget> = { '0': 'any', '1': 'pe', '6': 'elf', '9': 'macho' };

export function clamAvFormatOf(fileName: string): ClamAvFormat | undefined {
  const ext = fileName.toLowerCase().split('.').pop();
  return ext === 'hdb' || ext === 'hsb' || ext === 'ndb' ? ext : undefined;
}

export function importClamAv(format: ClamAvFormat, text: string): ClamAvImport {
  const signatures: FileSignature[] = [];
  const unsupported: UnsupportedLine[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    const result = format === 'ndb' ? fromNdb(line) : fromHash(format, line);
    if (typeof result === 'string') unsupported.push({ line: index + 1, reason: result });
    else signatures.push(result);
  });
  return { signatures, unsupported };
}

function fromHash(format: 'hdb' | 'hsb', line: string): FileSignature | string {
  const fields = line.split(':');
  if (fields.length < 3) return 'expected hash:size:name';
  const [hash, size, name] = fields as [string, string, string];
  const digest = hash.toLowerCase();
  const algorithm = digest.length === 32 ? 'md5' : digest.length === 64 ? 'sha256' : undefined;
  if (algorithm === undefined) {
    return digest.length === 40 ? 'SHA-1 hashes are not supported' : `a hash of ${digest.length} hex digits is neither MD5 nor SHA-256`;
  }
  if (format === 'hdb' && algorithm !== 'md5') return '.hdb lines hold MD5 hashes; use .hsb for SHA-256';
  if (size !== '*' && !/^\d+$/.test(size)) return `bad size "${size}"`;
  const parsed = HashSignature.safeParse({ type: 'hash', name, algorithm, digest, size: size === '*' ? null : Number(size) });
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
}

function fromNdb(line: string): FileSignature | string {
  const fields = line.split(':');
  if (fields.length < 4) return 'expected name:target:offset:hexsignature';
  const [name, target, offset, pattern] = fields as [string, string, string, string];
  const mapped = TARGETS[target];
  if (mapped === undefined) return `target type ${target} is not supported (supported: 0 any, 1 PE, 6 ELF, 9 Mach-O)`;
  if (!/^(\*|\d+(,\d+)?|EOF-\d+)$/.test(offset)) return `offset "${offset}" is not supported (supported: *, n, n,m, EOF-n)`;
  const parsed = BodySignature.safeParse({ type: 'body', name, target: mapped, offset, pattern });
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => `${i.path.join('.') || 'line'}: ${i.message}`).join('; ');
}
