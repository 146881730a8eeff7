import { z } from 'zod';

/** RFC 9457 problem details, with one entry per invalid field. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    errors: z.array(z.object({ pointer: z.string().optional(), parameter: z.string().optional(), line: z.int().optional(), detail: z.string() })).optional(),
  })
  .catchall(z.unknown())
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;
/**
 * An invalid body member (`pointer`, RFC 6901) or query parameter (`parameter`); `line` (1-based) when the member is
 * a text document (a ClamAV signature file) and one of its lines is at fault.
 */
export type FieldError = { pointer?: string; parameter?: string; line?: number; detail: string };
