/** Why the Node server cannot start, as one line for the operator (no stack: these are not bugs). */
export type StartupErrorCode = 'data_dir_locked' | 'port_in_use' | 'invalid_setting';

export class StartupError extends Error {
  constructor(
    readonly code: StartupErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'StartupError';
  }
}

/** The one place start-up failures are rendered: a known one as a single line, anything else with its stack. */
export function renderStartupFailure(err: unknown): string {
  return err instanceof StartupError ? `palisade: ${err.message}` : `palisade: failed to start\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
}
