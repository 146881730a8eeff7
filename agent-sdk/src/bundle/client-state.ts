import { BundleVerificationError } from './errors.ts';
import { ControlPlaneError } from './http.ts';
import { TrustPersistError } from './trust-keeper.ts';
import type { PollResult } from './client-options.ts';
import { agentError, reportedError, zeroCounters, type AgentError, type StatusDocument } from './status.ts';
import type { VerifiedBundle } from './verify.ts';

/** The client's record of what happened: counters, times, the last error, consecutive failures (for backoff). */
export class PollRecord {
  readonly counters = zeroCounters();
  lastError: AgentError | null = null;
  /** The last trust refresh failed: reported while no poll failure is, until a refresh succeeds. */
  trustError: AgentError | null = null;
  lastDownloadAt: Date | null = null;
  lastActivationAt: Date | null = null;
  failures = 0;
  retryAfterMs: number | undefined;

  succeeded(): void {
    this.failures = 0;
    this.retryAfterMs = undefined;
    this.lastError = null;
  }

  /** Counts a failure: a refused bundle is a rejection, anything else an error. */
  failed(err: unknown, at: Date): PollResult {
    const rejected = err instanceof BundleVerificationError;
    this.counters[rejected ? 'rejections' : 'errors']++;
    this.failures++;
    this.retryAfterMs = err instanceof ControlPlaneError ? err.retryAfterMs : undefined;
    this.lastError = agentError(err, at);
    if (rejected) return { outcome: 'rejected', error: err };
    return { outcome: 'failed', error: err instanceof Error ? err : new Error(String(err)) };
  }

  /** Records an error that does not fail the poll (a failed save, a throwing listener). */
  note(err: unknown, at: Date, code?: AgentError['code']): void {
    this.lastError = { ...agentError(err, at), ...(code ? { code } : {}) };
  }

  /** Records a failed trust refresh (a failed save as `persist_failed`), or with no error a successful one. */
  trustRefreshed(err: unknown, at: Date): void {
    if (err === undefined) return void (this.trustError = null);
    const error = agentError(err, at);
    const message = error.message.startsWith('trust refresh') ? error.message : `trust refresh: ${error.message}`;
    this.trustError = { ...error, message, ...(err instanceof TrustPersistError ? { code: 'persist_failed' as const } : {}) };
  }

  activated(at: Date): void {
    this.counters.activations++;
    this.lastActivationAt = at;
  }

  document(active: VerifiedBundle | null, now: Date, agentVersion: string): StatusDocument {
    return {
      activeRevision: active?.revision ?? null,
      activeDigest: active?.digest ?? null,
      lastDownloadAt: this.lastDownloadAt?.toISOString() ?? null,
      lastActivationAt: this.lastActivationAt?.toISOString() ?? null,
      lastError: reportedError(this.lastError ?? this.trustError, active, now),
      counters: { ...this.counters },
      agentVersion,
    };
  }
}
