import type { Context } from 'hono';
import type { z } from 'zod';
import type { FieldError } from '../../schema/problem.ts';
import { PalisadeError } from './errors.ts';

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** Deeper than any document of this API; refused before anything recurses into it (merge patch, validation). */
const MAX_DEPTH = 32;
/** NUL and unpaired UTF-16 surrogates: valid JSON, but Postgres stores neither in jsonb nor text. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Walks the parsed body without recursion; one error per offending member, in document order. */
export function unstorableMembers(body: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const stack: Array<[unknown, string[]]> = [[body, []]];
  while (stack.length > 0 && errors.length < 20) {
    const [value, path] = stack.pop()!;
    if (typeof value === 'string') {
      if (UNSTORABLE.test(value)) errors.push({ pointer: jsonPointer(path), detail: 'must not hold NUL characters or unpaired surrogates' });
    } else if (value !== null && typeof value === 'object') {
      if (path.length >= MAX_DEPTH) {
        errors.push({ pointer: jsonPointer(path), detail: `nests deeper than ${MAX_DEPTH} levels` });
        continue;
      }
      const members = Object.entries(value);
      for (let i = members.length - 1; i >= 0; i--) {
        const [key, member] = members[i]!;
        if (UNSTORABLE.test(key)) errors.push({ pointer: jsonPointer([...path, key]), detail: 'the member name must not hold NUL characters or unpaired surrogates' });
        else stack.push([member, [...path, key]]);
      }
    }
  }
  return errors;
}

/**
 * Reads a JSON request body; 415 for another media type, 400 for malformed JSON, 422 for JSON that no document of
 * ours can be (nested absurdly deep, or text Postgres cannot store).
 */
export async function readJson(c: Context, accept: RegExp = JSON_TYPE): Promise<unknown> {
  const type = c.req.header('content-type') ?? '';
  if (!accept.test(type)) {
    throw new PalisadeError('unsupported_media_type', `send the body as application/json (got ${type || 'no Content-Type'})`);
  }
  const text = await c.req.text();
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (cause) {
    throw new PalisadeError('malformed_request', `the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  const errors = unstorableMembers(body);
  if (errors.length > 0) throw new PalisadeError('validation_failed', 'the request body has invalid fields', { errors });
  return body;
}

const escapeToken = (token: PropertyKey) => String(token).replaceAll('~', '~0').replaceAll('/', '~1');
export const jsonPointer = (path: ReadonlyArray<PropertyKey>) => path.map((p) => '/' + escapeToken(p)).join('');

/** One field error per invalid member, with its JSON Pointer; several complaints about one member are joined. */
export function fieldErrors(error: z.ZodError): FieldError[] {
  const out: Array<{ pointer: string; detail: string }> = [];
  const collect = (issues: readonly z.core.$ZodIssue[], prefix: ReadonlyArray<PropertyKey>) => {
    for (const issue of issues) {
      const path = [...prefix, ...issue.path];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) out.push({ pointer: jsonPointer([...path, key]), detail: 'unknown field' });
      } else if (issue.code === 'invalid_union' && issue.errors.length > 0) {
        // Report the branch that got furthest rather than "invalid input"; its issues may be unions or unknown keys too.
        collect(issue.errors.reduce((a, b) => (a.length <= b.length ? a : b)), path);
      } else {
        out.push({ pointer: jsonPointer(path), detail: issue.message });
      }
    }
  };
  collect(error.issues, []);
  const byPointer = new Map<string, string[]>();
  for (const { pointer, detail } of out) byPointer.set(pointer, [...(byPointer.get(pointer) ?? []), detail]);
  return [...byPointer].map(([pointer, details]) => ({ pointer, detail: [...new Set(details)].join('; ') }));
}

export async function validate<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): Promise<z.output<S>> {
  const result = await schema.safeParseAsync(value);
  if (result.success) return result.data;
  throw new PalisadeError('validation_failed', `the ${what} has invalid fields`, { errors: fieldErrors(result.error), cause: result.error });
}
