import type { DispatchResult } from './dispatcher.ts';

/**
 * The dispatcher as a background loop, for servers that live on (Node): a pass every `intervalMs`, at once again
 * while a pass fills its batch, and at once on `wake()` (new deliveries). Its timer does not keep the process up.
 * Workers run passes from a Queue consumer and a cron trigger instead (worker.ts).
 */
export interface DispatchLoop {
  wake(): void;
  /** No new passes; resolves when the running one has finished. */
  stop(): Promise<void>;
}

export function startDispatchLoop(pass: () => Promise<DispatchResult>, options: { intervalMs?: number; onError?: (err: unknown) => void } = {}): DispatchLoop {
  const intervalMs = options.intervalMs ?? 1000;
  const onError = options.onError ?? ((err) => console.error('webhook dispatcher:', err));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let woken = false;

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    (timer as { unref?: () => void }).unref?.();
  };

  function run(): void {
    timer = undefined;
    woken = false;
    running = pass()
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
      clearTimeout(timer);
      await running;
    },
  };
}
