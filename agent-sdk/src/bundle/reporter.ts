import { abortableSleep } from './backoff.ts';
import { endpoint, responseError, withDeadline } from './http.ts';
import type { StatusDocument } from './status.ts';

export interface StatusReporterOptions {
  url: string;
  credential: string;
  /** Produces the document to send, typically `() => client.status()`. */
  source: () => StatusDocument;
  /** Between reports, jittered by up to +20 %; default 60 s. */
  intervalMs?: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Called when a report fails; reporting carries on at the next interval. */
  onError?: (error: Error) => void;
}

/**
 * `POST /v1/agent/status` once. Throws `ControlPlaneError` unless the server answers 2xx.
 *
 * @example
 * ```ts
 * await postStatus({ url, credential }, client.status());
 * ```
 */
export async function postStatus(options: { url: string; credential: string; fetch?: typeof fetch; timeoutMs?: number; signal?: AbortSignal }, status: StatusDocument): Promise<void> {
  const doFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  await withDeadline(options.timeoutMs ?? 10_000, options.signal, async (signal) => {
    const res = await doFetch(endpoint(options.url, '/v1/agent/status'), {
      method: 'POST',
      headers: { authorization: `Bearer ${options.credential}`, 'content-type': 'application/json' },
      body: JSON.stringify(status),
      signal,
      redirect: 'error',
    });
    if (!res.ok) throw await responseError(res, 'status report');
    await res.body?.cancel().catch(() => undefined);
  });
}

/**
 * Sends the agent's status to the control plane periodically, so operators see what each cluster enforces.
 *
 * @example
 * ```ts
 * const reporter = new StatusReporter({ url, credential, source: () => client.status(), onError: console.warn });
 * reporter.start();
 * // ... on shutdown: one last report
 * await reporter.stop(true);
 * ```
 */
export class StatusReporter {
  private loop: { controller: AbortController; done: Promise<void> } | undefined;

  constructor(private readonly options: StatusReporterOptions) {}

  /** Sends one report now. */
  reportOnce(signal?: AbortSignal): Promise<void> {
    const { url, credential, fetch, timeoutMs } = this.options;
    return postStatus({ url, credential, ...(fetch ? { fetch } : {}), ...(timeoutMs ? { timeoutMs } : {}), ...(signal ? { signal } : {}) }, this.options.source());
  }

  /** Reports now and then every interval until `stop()`. */
  start(): void {
    if (this.loop) return;
    const controller = new AbortController();
    const { intervalMs = 60_000, sleep = abortableSleep, random = Math.random, onError } = this.options;
    const run = async () => {
      while (!controller.signal.aborted) {
        await this.reportOnce(controller.signal).catch((err: Error) => controller.signal.aborted || onError?.(err));
        if (!controller.signal.aborted) await sleep(Math.round(intervalMs * (1 + 0.2 * random())), controller.signal);
      }
    };
    this.loop = { controller, done: run() };
  }

  /** Stops reporting. With `final`, sends one last report first (e.g. on shutdown). */
  async stop(final = false): Promise<void> {
    const loop = this.loop;
    if (!loop) return;
    loop.controller.abort();
    await loop.done;
    this.loop = undefined;
    if (final) await this.reportOnce().catch((err: Error) => this.options.onError?.(err));
  }
}
