import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Exit codes of `palisade-agent`. */
export const EXIT = {
  ok: 0,
  /** A bundle was refused by verification. */
  rejected: 1,
  /** `evaluate`: some object was denied. */
  denied: 1,
  /** Bad command line, or a missing or unusable file. */
  usage: 2,
  /** The control plane could not be reached or answered with an error. */
  unavailable: 3,
} as const;

/** A mistake in the command line; printed with the usage text, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export { USAGE } from './help.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict parsing: unknown flags, missing values and stray arguments are usage errors. */
export function parse<O extends Options>(args: string[], options: O, positionals = 0) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals > 0 });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  return parsed;
}

/** The value of a required string flag. */
export function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export const optional = (values: Record<string, unknown>, name: string): string | undefined =>
  typeof values[name] === 'string' ? (values[name] as string) : undefined;
