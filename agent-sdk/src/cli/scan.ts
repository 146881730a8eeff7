import { loadSignatureFiles } from '../scanner/signature-files.ts';
import { SignatureIndex } from '../scanner/signature-index.ts';
import { ScanPool } from '../scanner/pool.ts';
import { walkFiles } from '../scanner/scan-files.ts';
import type { ScanResult } from '../scanner/scan.ts';
import { DEFAULT_SCAN_OPTIONS, type ScanOptions, type Verdict } from '../scanner/types.ts';
import { EXIT, optional, parse, UsageError } from './args.ts';
import { storedSignatures } from './stored-signatures.ts';

const OPTIONS = {
  signatures: { type: 'string', multiple: true },
  'signatures-from': { type: 'string' },
  config: { type: 'string' },
  output: { type: 'string' },
  exclude: { type: 'string', multiple: true },
  archives: { type: 'string' },
  'no-mail': { type: 'boolean' },
  'max-file-size': { type: 'string' },
  'max-depth': { type: 'string' },
  'max-scan-time': { type: 'string' },
  quiet: { type: 'boolean' },
  jobs: { type: 'string' },
} as const;


function positiveNumber(values: Record<string, unknown>, name: string): number | undefined {
  const raw = optional(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} is "${raw}"; give a positive number`);
  return n;
}

function describe(verdict: Verdict): string {
  const where = (path: string[]) => (path.length > 1 ? ` in ${path.slice(1).join(' > ')}` : '');
  switch (verdict.verdict) {
    case 'clean':
      return 'OK';
    case 'infected':
      return `${verdict.name} FOUND${where(verdict.path)}`;
    case 'limitExceeded':
      return `NOT FULLY SCANNED: limit exceeded (${verdict.kind})${where(verdict.path)}`;
    case 'encrypted':
      return `NOT FULLY SCANNED: encrypted${where(verdict.path)}`;
    case 'error':
      return `ERROR: ${verdict.message}${where(verdict.path)}`;
  }
}

/** `palisade-agent scan`: see its help in `help.ts`. */
export async function scanCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, OPTIONS, Infinity);
  const output = optional(values, 'output') ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`--output is "${output}"; use text or json`);
  if (positionals.length === 0) throw new UsageError('give one or more files or directories to scan');
  const archives = optional(values, 'archives') ?? 'all';
  if (archives !== 'all' && archives !== 'selfExtractingOnly' && archives !== 'off') throw new UsageError(`--archives is "${archives}"; use all, selfExtractingOnly or off`);
  const size = positiveNumber(values, 'max-file-size');
  const depth = positiveNumber(values, 'max-depth');
  const seconds = positiveNumber(values, 'max-scan-time');
  const options: ScanOptions = {
    archives,
    mail: values['no-mail'] !== true,
    limits: {
      ...DEFAULT_SCAN_OPTIONS.limits,
      ...(size ? { maxObjectBytes: size * 1024 * 1024 } : {}),
      ...(depth ? { maxDepth: depth } : {}),
      ...(seconds ? { maxScanMs: seconds * 1000 } : {}),
    },
  };
  const loaded = await loadSignatureFiles((values.signatures as string[] | undefined) ?? []);
  const storedDir = optional(values, 'signatures-from');
  if (storedDir !== undefined) loaded.signatures.push(...(await storedSignatures(storedDir, optional(values, 'config'))));
  for (const u of loaded.unsupported) process.stderr.write(`${u.file}:${u.line}: not imported: ${u.reason}\n`);
  const index = new SignatureIndex(loaded.signatures);
  const jobs = positiveNumber(values, 'jobs');
  const pool = new ScanPool(loaded.signatures, options, jobs === undefined ? undefined : Math.ceil(jobs));
  const started = performance.now();
  type Entry = { path: string; result?: ScanResult; error?: string };
  const pending: Array<Promise<Entry>> = [];
  const results: Entry[] = [];
  try {
    for await (const file of walkFiles(positionals, (values.exclude as string[] | undefined) ?? [])) {
      const scanned = file.error
        ? Promise.resolve({ path: file.path, error: file.error })
        : pool.scanFile(file.path).then(
            (result): Entry => ({ path: file.path, result }),
            (err: Error): Entry => ({ path: file.path, error: err.message }),
          );
      pending.push(scanned);
    }
    // Printed in walk order; the pool keeps every thread busy meanwhile.
    for (const promise of pending) {
      const entry = await promise;
      results.push(entry);
      if (output === 'text') {
        const verdict: Verdict = entry.result?.verdict ?? { verdict: 'error', message: entry.error ?? 'unknown', path: [entry.path] };
        if (!(values.quiet && verdict.verdict === 'clean')) process.stdout.write(`${entry.path}: ${describe(verdict)}\n`);
      }
    }
  } finally {
    await pool.close();
  }
  const infected = results.filter((r) => r.result?.verdict.verdict === 'infected').length;
  const incomplete = results.filter((r) => r.error !== undefined || (r.result && r.result.verdict.verdict !== 'clean' && r.result.verdict.verdict !== 'infected')).length;
  const bytes = results.reduce((n, r) => n + (r.result?.bytes ?? 0), 0);
  const seconds_ = (performance.now() - started) / 1000;
  if (output === 'json') {
    const files = results.map((r) => ({ path: r.path, ...(r.result ? { ...r.result.verdict, detections: r.result.detections } : { verdict: 'error', message: r.error }) }));
    process.stdout.write(`${JSON.stringify({ signatures: index.count, files, infected, notFullyScanned: incomplete, bytes, seconds: seconds_ }, null, 2)}\n`);
  } else {
    process.stdout.write(
      `\n----------- SCAN SUMMARY -----------\nKnown signatures: ${index.count}\nScanned files: ${results.length}\nInfected files: ${infected}\n` +
        `Not fully scanned: ${incomplete}\nData scanned: ${(bytes / 1024 / 1024).toFixed(2)} MB\nTime: ${seconds_.toFixed(3)} sec\n`,
    );
  }
  return infected > 0 ? EXIT.denied : incomplete > 0 ? EXIT.usage : EXIT.ok;
}
