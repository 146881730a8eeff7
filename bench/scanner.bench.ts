import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanPool } from '../agent-sdk/src/scanner/pool.ts';
import { scanFile, walkFiles } from '../agent-sdk/src/scanner/scan-files.ts';
import { SignatureIndex } from '../agent-sdk/src/scanner/signature-index.ts';
import { DEFAULT_SCAN_OPTIONS } from '../agent-sdk/src/scanner/types.ts';
import { threatCorpus, toClamAv, zip } from '../test/support/threat-corpus.ts';
import { fmt, median, report } from './stats.ts';

/**
 * File threat scanning: the same corpus and signatures scanned by our engine and by ClamAV (`clamscan -d` and clamd
 * through `clamdscan`, from Debian's packages, offline, installed here when missing) in one run. Reports MB/s per
 * scanner, ratios to clamd, correct detections against the corpus's ground truth, and what each says of limit cases.
 */

const RUNS = 5;

function ensureClamAv(): boolean {
  if (['/usr/bin/clamscan', '/usr/sbin/clamd', '/usr/bin/clamdscan'].every((f) => existsSync(f))) return true;
  if (process.getuid?.() !== 0) return false;
  console.log('  installing clamav and clamav-daemon from Debian ...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env });
  spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'clamav', 'clamav-daemon', 'clamdscan'], { stdio: 'ignore', env });
  return ['/usr/bin/clamscan', '/usr/sbin/clamd', '/usr/bin/clamdscan'].every((f) => existsSync(f));
}

/** FOUND lines of ClamAV's output: file → signature name (ClamAV appends `.UNOFFICIAL` to third-party names). */
function found(output: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of output.matchAll(/^(.+): (\S+) FOUND$/gm)) out.set(m[1]!, m[2]!.replace(/\.UNOFFICIAL$/, ''));
  return out;
}

async function startClamd(dir: string, db: string): Promise<{ conf: string; stop: () => void }> {
  const socket = join(dir, 'clamd.sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [`LocalSocket ${socket}`, `DatabaseDirectory ${db}`, 'Foreground yes', 'MaxThreads 2', `LogFile ${join(dir, 'clamd.log')}`, `PidFile ${join(dir, 'clamd.pid')}`, `TemporaryDirectory ${dir}`, 'User root', 'AlertExceedsMax no'].join('\n'),
  );
  const clamd = spawn('/usr/sbin/clamd', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 100));
  if (!existsSync(socket)) throw new Error('clamd did not start');
  return { conf, stop: () => clamd.kill('SIGTERM') };
}

export async function benchScanner(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-scan-bench-'));
  try {
    const corpus = await threatCorpus(11, 6);
    const files = join(dir, 'corpus');
    mkdirSync(files);
    const truth = new Map<string, string | undefined>();
    let bytes = 0;
    for (const f of corpus.files) {
      writeFileSync(join(files, f.name), f.data);
      truth.set(join(files, f.name), f.threat);
      bytes += f.data.length;
    }
    // Limit cases: every scanner must not call these clean. ClamAV answers OK to both.
    let deep: Uint8Array = new TextEncoder().encode('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*');
    for (let i = 0; i < 17; i++) deep = zip([{ name: `l${17 - i}.zip`, data: deep }]);
    const limitCases = { 'deep-17.zip': deep, 'ratio-30mb.zip': zip([{ name: 'zeros', data: new Uint8Array(30 * 1024 * 1024) }]) };
    const limits = join(dir, 'limits');
    mkdirSync(limits);
    for (const [name, data] of Object.entries(limitCases)) writeFileSync(join(limits, name), data);
    const db = join(dir, 'db');
    mkdirSync(db);
    const clam = toClamAv(corpus.signatures);
    writeFileSync(join(db, 'palisade.ndb'), clam.ndb);
    writeFileSync(join(db, 'palisade.hdb'), clam.hdb);
    writeFileSync(join(db, 'palisade.hsb'), clam.hsb);
    // ClamAV knows EICAR from its official database only; give it the same single signature we always carry.
    writeFileSync(join(db, 'eicar.ndb'), `Eicar-Test-Signature:0:0:${Buffer.from('X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*').toString('hex')}\n`);
    const mb = bytes / 1024 / 1024;
    console.log(`  corpus: ${corpus.files.length} files, ${fmt(mb)} MB, ${corpus.signatures.length + 1} signatures`);

    const score = (detections: Map<string, string>) => {
      let correct = 0;
      let falsePositives = 0;
      for (const [file, threat] of truth) {
        const got = detections.get(file);
        if (threat !== undefined && got === threat) correct++;
        if (threat === undefined && got !== undefined) falsePositives++;
      }
      return `${correct}/${[...truth.values()].filter(Boolean).length} detected, ${falsePositives} false positives`;
    };

    const index = new SignatureIndex(corpus.signatures);
    const ours = async () => {
      const detections = new Map<string, string>();
      for await (const f of walkFiles([files])) {
        const { verdict } = await scanFile(index, DEFAULT_SCAN_OPTIONS, f.path);
        if (verdict.verdict === 'infected') detections.set(f.path, verdict.name);
      }
      return detections;
    };
    const pool = new ScanPool(corpus.signatures, DEFAULT_SCAN_OPTIONS, 2);
    const oursPooled = async () => {
      const detections = new Map<string, string>();
      const paths: string[] = [];
      for await (const f of walkFiles([files])) paths.push(f.path);
      const results = await Promise.all(paths.map((p) => pool.scanFile(p)));
      results.forEach((r, i) => r.verdict.verdict === 'infected' && detections.set(paths[i]!, r.verdict.name));
      return detections;
    };
    await oursPooled(); // start both threads before timing
    const oursLimits: string[] = [];
    for (const name of Object.keys(limitCases)) {
      const { verdict } = await scanFile(index, DEFAULT_SCAN_OPTIONS, join(limits, name));
      oursLimits.push(`${name}: ${verdict.verdict}${verdict.verdict === 'limitExceeded' ? ` (${verdict.kind})` : ''}`);
    }

    const rows: Array<[string, string]> = [];
    const timesOurs: number[] = [];
    const timesPooled: number[] = [];
    let pooledFound = new Map<string, string>();
    const timesClamd: number[] = [];
    const timesClamscan: number[] = [];
    let oursFound = new Map<string, string>();
    let clamdFound = new Map<string, string>();
    let clamscanFound = new Map<string, string>();
    const haveClamAv = ensureClamAv();
    const clamd = haveClamAv ? await startClamd(dir, db) : undefined;
    try {
      for (let run = 0; run < RUNS; run++) {
        // Alternate the order so neither side always runs on a warmer machine.
        const steps = [
          async () => {
            const t = performance.now();
            oursFound = await ours();
            timesOurs.push(performance.now() - t);
          },
          async () => {
            const t = performance.now();
            pooledFound = await oursPooled();
            timesPooled.push(performance.now() - t);
          },
          async () => {
            if (!clamd) return;
            const t = performance.now();
            const r = spawnSync('clamdscan', ['-c', clamd.conf, '--multiscan', '--no-summary', files], { encoding: 'utf8', maxBuffer: 1 << 26 });
            timesClamd.push(performance.now() - t);
            clamdFound = found(r.stdout);
          },
        ];
        if (run % 2) steps.reverse();
        for (const step of steps) await step();
        if (haveClamAv && run < 3) {
          const t = performance.now();
          const r = spawnSync('clamscan', ['-d', db, '--no-summary', '-r', files], { encoding: 'utf8', maxBuffer: 1 << 26 });
          timesClamscan.push(performance.now() - t);
          clamscanFound = found(r.stdout);
        }
      }
      const mbps = (times: number[]) => mb / (median(times) / 1000);
      rows.push(['palisade engine (1 thread, in process)', `${fmt(mbps(timesOurs))} MB/s, ${score(oursFound)}`]);
      rows.push(['palisade ScanPool (2 threads)', `${fmt(mbps(timesPooled))} MB/s, ${score(pooledFound)}`]);
      if (haveClamAv) {
        rows.push(['clamd via clamdscan --multiscan (2 threads)', `${fmt(mbps(timesClamd))} MB/s, ${score(clamdFound)}`]);
        rows.push(['clamscan -d (db load included)', `${fmt(mbps(timesClamscan))} MB/s, ${score(clamscanFound)}`]);
        rows.push(['ratio palisade 1 thread / clamd', `${fmt(median(timesClamd) / median(timesOurs))}x`]);
        rows.push(['ratio palisade 2 threads / clamd (2 threads)', `${fmt(median(timesClamd) / median(timesPooled))}x`]);
        const clamLimits = spawnSync('clamdscan', ['-c', clamd!.conf, '--no-summary', ...Object.keys(limitCases).map((n) => join(limits, n))], { encoding: 'utf8' }).stdout.trim().split('\n');
        rows.push(['clamd on limit cases', clamLimits.map((l) => l.replace(`${limits}/`, '')).join('; ')]);
      } else rows.push(['clamav', 'not installed and not root: ClamAV rows skipped']);
      rows.push(['palisade on limit cases', oursLimits.join('; ')]);
      report(`file scanning, ${corpus.files.length} files, median of ${RUNS}`, rows);
    } finally {
      clamd?.stop();
      await pool.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


