import { loggableError } from '../db/errors.ts';
import type { DispatchResult } from './dispatcher.ts';

/**
 * The dispatcher as a background loop, for servers that live on (Node): a pass every `intervalMs`, at once again
 * while a pass fills its batch, and at once on `wake()` (new deliveries; a running pass also finds them itself, as it
 * looks for due deliveries while its attempts are in flight). Its timer does not keep the process up.
 * Workers run passes from a Queue consumer and a cron trigger instead (worker.ts).
 */
export interface DispatchLoop {
  wake(): void;
  /** No new passes; resolves when the running one has finished. */
  stop(): Promise<void>;
}

export function startDispatchLoop(pass: (signal: AbortSignal) => Promise<DispatchResult>, options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): DispatchLoop {
  const intervalMs = options.intervalMs ?? 1000;
  const onError = options.onError ?? ((err) => console.error('webhook dispatcher:', loggableError(err)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let woken = false;
  // A pass goes on claiming while deliveries come due; stopping tells it to finish what is in flight and end.
  const stopping = new AbortController();

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    (timer as { unref?: () => void }).unref?.();
  };

  function run(): void {
    timer = undefined;
    woken = false;
    running = pass(stopping.signal)
      .then((result) => result.more, (err: unknown) => (onError(err), false))
      .then((more) => {
        running = undefined;
        schedule(more || woken ? 0 : intervalMs);
      });
  }

  schedule(0);
  return {
    wake() {
      if (running) woken = true;
      else schedule(0);
    },
    async stop() {
      stopped = true;
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
