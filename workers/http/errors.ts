import type { FieldError } from '../../schema/problem.ts';

/** What went wrong, as domain code says it; rendered to HTTP in one place (problem.ts). */
export type ErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'in_use'
  | 'immutable'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'malformed_request'
  | 'invalid_parameters'
  | 'validation_failed'
  | 'unprocessable_references'
  | 'rate_limited';

export interface ErrorOptions {
  errors?: FieldError[];
  /** Extra members of the problem document, e.g. the policies that hold a reference. */
  extensions?: Record<string, unknown>;
  cause?: unknown;
  headers?: Record<string, string>;
}

export class PalisadeError extends Error {
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: ErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'PalisadeError';
    this.errors = options.errors;
    this.extensions = options.extensions;
    this.headers = options.headers;
  }
}

export const notFound = (what: string) => new PalisadeError('not_found', `${what} not found`);
