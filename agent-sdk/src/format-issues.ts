import type { z } from 'zod';

/**
 * A zod error as one line: each issue as its JSON Pointer and message, `(root)` for the document itself.
 *
 * @example
 * ```ts
 * formatIssues(AgentConfig.safeParse({}).error!); // "/url: Invalid input: expected string, received undefined; ..."
 * ```
 */
export function formatIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? '/' + i.path.map(String).join('/') : '(root)'}: ${i.message}`).join('; ');
}
