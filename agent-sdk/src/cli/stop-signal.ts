/** Resolves with the name of the first SIGTERM or SIGINT: how the long-running commands (`run`, `node`) are stopped. */
export function stopSignal(): Promise<'SIGTERM' | 'SIGINT'> {
  return new Promise((done) => {
    process.once('SIGTERM', () => done('SIGTERM'));
    process.once('SIGINT', () => done('SIGINT'));
  });
}
