import { AGENT_VERSION } from '../version.ts';
import { abortableSleep, DEFAULT_TIMING, type PollTiming } from './backoff.ts';
import type { BundleVerificationError } from './errors.ts';
import type { JWKS } from './jws.ts';
import type { BundleStore } from './persisted.ts';
import type { TrustStore } from './trust.ts';
import { DEFAULT_MAX_BUNDLE_BYTES, type VerifiedBundle } from './verify.ts';

/**
 * Settings of a `BundleClient`. Everything with side effects (`fetch`, `now`, `sleep`, `random`, `store`) can be
 * swapped, for tests or other runtimes.
 *
 * @example
 * ```ts
 * const { config, credential, trust, stateDir } = await loadAgentFiles('/etc/palisade/config.json');
 * const options: BundleClientOptions = { ...config, credential, trust, store: new FileBundleStore(stateDir), waitSeconds: 60 };
 * ```
 */
export interface BundleClientOptions {
  /** Control plane base URL. */
  url: string;
  /** The agent credential from enrollment, sent as a bearer token. */
  credential: string;
  /** Trust anchor from the agent's configuration; replaced by refreshes (see `refreshTrust`). */
  trust: JWKS;
  /** Keeps a refreshed trust anchor (the trust file); without it, refreshes last until the process ends. */
  trustStore?: TrustStore;
  /**
   * Between refreshes of the trust anchor from `/.well-known/jwks.json`, default 1 h; 0 turns periodic refreshes off.
   * A downloaded bundle signed by an unknown key triggers one refresh in any case.
   */
  trustRefreshMs?: number;
  /** Allow trust refreshes over plain HTTP to a non-loopback host. Never in production. */
  allowHttpTrustRefresh?: boolean;
  issuer: string;
  tenantId: string;
  clusterId: string;
  /** Keeps the last good bundle across restarts; none by default. */
  store?: BundleStore;
  /** Default 8 MiB, applied to the decompressed body. */
  maxBytes?: number;
  /** Deadline of one download, default 30 s (plus `waitSeconds` when long polling). */
  downloadTimeoutMs?: number;
  /** Long poll `?wait=N` (the server allows up to 120); 0 (default) polls at `timing.interval`. */
  waitSeconds?: number;
  timing?: Partial<PollTiming>;
  agentVersion?: string;
  /**
   * Called with a downloaded bundle that passed verification, before it is persisted and activated (e.g. to load it
   * into the policy engine first). If it throws, the bundle is not activated and the poll fails.
   */
  beforeActivate?: (bundle: VerifiedBundle) => Promise<void> | void;
  /** Called after every poll of the `start()` loop, e.g. to log or to hand an activated bundle to the policy engine. */
  onPoll?: (result: PollResult) => void;
  fetch?: typeof fetch;
  /** Clock, milliseconds since the epoch. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1), for jitter. */
  random?: () => number;
}

/**
 * What one poll did.
 *
 * @example
 * ```ts
 * const result = await client.pollOnce();
 * if (result.outcome === 'rejected') console.warn(`bundle refused: ${result.error.code}`);
 * ```
 */
export type PollResult =
  | { outcome: 'activated'; bundle: VerifiedBundle }
  | { outcome: 'not_modified' }
  | { outcome: 'rejected'; error: BundleVerificationError }
  | { outcome: 'failed'; error: Error }
  | { outcome: 'stopped' };

type Hooks = 'store' | 'trustStore' | 'onPoll' | 'beforeActivate';
export type ResolvedOptions = Required<Omit<BundleClientOptions, Hooks | 'timing'>> & Pick<BundleClientOptions, Hooks> & { timing: PollTiming };

export function resolveOptions(options: BundleClientOptions): ResolvedOptions {
  return {
    maxBytes: DEFAULT_MAX_BUNDLE_BYTES,
    downloadTimeoutMs: 30_000,
    waitSeconds: 0,
    trustRefreshMs: 60 * 60_000,
    allowHttpTrustRefresh: false,
    agentVersion: AGENT_VERSION,
    fetch: (input, init) => globalThis.fetch(input, init),
    now: Date.now,
    sleep: abortableSleep,
    random: Math.random,
    ...options,
    timing: { ...DEFAULT_TIMING, ...options.timing },
  };
}
