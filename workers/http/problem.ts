import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Problem } from '../../schema/problem.ts';
import { loggableError } from '../db/errors.ts';
import { PalisadeError, type ErrorCode } from './errors.ts';

const STATUS: Record<ErrorCode, { status: number; title: string }> = {
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  conflict: { status: 409, title: 'Conflict' },
  in_use: { status: 409, title: 'Still In Use' },
  immutable: { status: 409, title: 'Built-in Object Cannot Change' },
  precondition_failed: { status: 412, title: 'Precondition Failed' },
  payload_too_large: { status: 413, title: 'Content Too Large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  malformed_request: { status: 400, title: 'Malformed Request' },
  invalid_parameters: { status: 400, title: 'Invalid Query Parameters' },
  validation_failed: { status: 422, title: 'Validation Failed' },
  unprocessable_references: { status: 422, title: 'Unknown Or Unusable References' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
};

export const PROBLEM_TYPE_BASE = 'https://palisade.dev/problems/';

export function problemFor(error: PalisadeError, instance?: string): Problem {
  const { status, title } = STATUS[error.code];
  return {
    type: PROBLEM_TYPE_BASE + error.code.replaceAll('_', '-'),
    title,
    status,
    detail: error.message,
    ...(instance ? { instance } : {}),
    ...(error.errors ? { errors: error.errors } : {}),
    ...error.extensions,
  };
}

export function problemResponse(c: Context, error: PalisadeError): Response {
  const body = problemFor(error, new URL(c.req.url).pathname);
  const headers: Record<string, string> = { 'content-type': 'application/problem+json', ...error.headers };
  if (error.code === 'unauthorized') headers['www-authenticate'] ??= 'Bearer realm="palisade"';
  return new Response(JSON.stringify(body), { status: body.status, headers });
}

/** The one place errors become HTTP: domain errors keep their code, anything unexpected is a logged 500. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof PalisadeError) return problemResponse(c, err);
  if (err instanceof HTTPException) {
    const code: ErrorCode = err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : 'malformed_request';
    return problemResponse(c, new PalisadeError(code, err.message || STATUS[code].title));
  }
  console.error('unhandled error', c.req.method, c.req.path, loggableError(err));
  const body: Problem = { type: PROBLEM_TYPE_BASE + 'internal', title: 'Internal Server Error', status: 500, detail: 'The server failed; the error was logged.' };
  return new Response(JSON.stringify(body), { status: 500, headers: { 'content-type': 'application/problem+json' } });
}
