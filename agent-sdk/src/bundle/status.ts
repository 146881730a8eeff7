import type { AgentEnforcement } from '../../../schema/enforcement.ts';
import type { SignatureSetStatus } from '../signature-sets/client.ts';
import type { BundleVerificationCode } from './errors.ts';
import { BundleVerificationError } from './errors.ts';
import { ControlPlaneError, type TransportErrorCode } from './http.ts';
import type { VerifiedBundle } from './verify.ts';

/** Codes `lastError` can carry: a refused bundle, a failed request, or the agent's own trouble. */
export type AgentErrorCode = BundleVerificationCode | TransportErrorCode | 'persist_failed' | 'internal';

export interface AgentError {
  code: AgentErrorCode;
  message: string;
  /** ISO 8601. */
  at: string;
}

export interface StatusCounters {
  /** Requests for the bundle. */
  polls: number;
  /** 304 answers. */
  notModified: number;
  /** Bundles received in full. */
  downloads: number;
  /** Bundles that became active. */
  activations: number;
  /** Bundles refused by verification (oversized included). */
  rejections: number;
  /** Failed requests: network, timeouts, HTTP errors. */
  errors: number;
}

/**
 * The document `POST /v1/agent/status` takes. Times are ISO 8601, or null when it never happened.
 *
 * @example
 * ```ts
 * const { activeRevision, lastError, counters } = client.status();
 * if (lastError) console.warn(`revision ${activeRevision}: ${lastError.code} ${lastError.message}`);
 * ```
 */
export interface StatusDocument {
  activeRevision: number | null;
  activeDigest: string | null;
  lastDownloadAt: string | null;
  lastActivationAt: string | null;
  lastError: AgentError | null;
  counters: StatusCounters;
  agentVersion: string;
  /** What this instance enforces (schema/enforcement.ts); set by the components that enforce something. */
  enforcement?: AgentEnforcement;
  /** The file signature set in use, from `SignatureSetClient.status()`, on agents that scan files. */
  fileSignatures?: SignatureSetStatus;
}

export const zeroCounters = (): StatusCounters => ({ polls: 0, notModified: 0, downloads: 0, activations: 0, rejections: 0, errors: 0 });

/** Classifies a failure for `lastError`. */
export function agentError(err: unknown, at: Date): AgentError {
  const code: AgentErrorCode = err instanceof BundleVerificationError || err instanceof ControlPlaneError ? err.code : 'internal';
  return { code, message: err instanceof Error ? err.message : String(err), at: at.toISOString() };
}

/**
 * The error to report: the last failure if the last poll failed; otherwise, if the active bundle has expired (kept
 * as last known good while no newer one can be had), an `expired` entry saying so.
 */
export function reportedError(lastError: AgentError | null, active: VerifiedBundle | null, now: Date): AgentError | null {
  if (lastError !== null) return lastError;
  if (active !== null && now >= active.expiresAt)
    return { code: 'expired', message: `active bundle (revision ${active.revision}) expired at ${active.expiresAt.toISOString()}; kept as last known good`, at: active.expiresAt.toISOString() };
  return null;
}
