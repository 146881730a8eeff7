import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { AgentFileError } from '../node/agent-file.ts';

export interface KeyPair {
  cert: string;
  key: string;
  /** The CA bundle client certificates must chain to (`clientCaFile`); absent when clients are not authenticated. */
  ca?: string;
}

async function read(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new AgentFileError(file, code === 'ENOENT' ? 'no such file' : `cannot read (${code ?? String(err)})`, { cause: err });
  }
}

/**
 * Reads a certificate and its key (and the client CA bundle, when given), and checks that TLS can use them together.
 * Errors name the file at fault.
 */
export async function loadKeyPair(certFile: string, keyFile: string, caFile?: string): Promise<KeyPair> {
  const [cert, key, ca] = await Promise.all([read(certFile), read(keyFile), caFile === undefined ? undefined : read(caFile)]);
  const check = (file: string, problem: string, fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      throw new AgentFileError(file, `${problem} (${(err as Error).message})`, { cause: err });
    }
  };
  check(certFile, 'not a PEM certificate', () => new X509Certificate(cert));
  check(keyFile, 'not a PEM private key', () => createPrivateKey(key));
  check(certFile, `the certificate does not match the key in ${keyFile}`, () => createSecureContext({ cert, key }));
  if (caFile === undefined || ca === undefined) return { cert, key };
  check(caFile, 'not a PEM CA certificate bundle', () => {
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error('no certificate in the file');
    new X509Certificate(ca);
    createSecureContext({ ca });
  });
  return { cert, key, ca };
}

/**
 * Watches a certificate and key pair and the client CA bundle (mounted from a Secret that cert-manager or an operator renews) by reading both
 * every `intervalMs`: a pair that changed and works is handed to `onChange`. A half-written or mismatched pair is
 * reported to `onError` once and the old one stays in use; polling, not `fs.watch`, because Kubernetes swaps Secret
 * files through symlinks that watchers lose track of.
 */
export class CertificateReloader {
  private timer: NodeJS.Timeout | undefined;
  private failed = '';

  constructor(
    private readonly files: { certFile: string; keyFile: string; caFile?: string; intervalMs: number },
    private current: KeyPair,
    private readonly onChange: (pair: KeyPair) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.files.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One check now; resolves to whether a new pair was taken into use. */
  async check(): Promise<boolean> {
    let pair: KeyPair;
    try {
      pair = await loadKeyPair(this.files.certFile, this.files.keyFile, this.files.caFile);
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.failed) this.onError(err as Error);
      this.failed = message;
      return false;
    }
    this.failed = '';
    if (pair.cert === this.current.cert && pair.key === this.current.key && pair.ca === this.current.ca) return false;
    this.current = pair;
    this.onChange(pair);
    return true;
  }
}
