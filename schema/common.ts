import { z } from 'zod';

/** UUIDs compare case-insensitively; the lower-case form is the one stored, so references and filters match. */
export const Id = z.uuid().toLowerCase().meta({ description: 'Object id (UUID)' });

export const Name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u, 'must not be blank, start or end with spaces, or hold control characters')
  .meta({ description: 'Unique per tenant' });

export const Description = z.string().max(1024);

export const Timestamp = z.iso.datetime({ offset: true });

/** Fields the server sets on every tenant object; never accepted in a request body. */
export const Metadata = z.object({
  id: Id,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  createdBy: z.string(),
  updatedBy: z.string(),
});
export type Metadata = z.infer<typeof Metadata>;

/** `*` matches any run of characters; a mask with no `*` is an exact name. */
export const NameMask = z.string().min(1).max(253).regex(/^[A-Za-z0-9*._:/@-]+$/, 'may hold letters, digits, `*`, `.`, `_`, `-`, `:`, `/` and `@`');

export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().optional() });
}

/** A Kubernetes label key or value, as the API server accepts them. */
export const LabelKey = z
  .string()
  .max(316)
  .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/, 'must be a Kubernetes label key');
export const LabelValue = z
  .string()
  .max(63)
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a Kubernetes label value');
export const Labels = z.record(LabelKey, LabelValue);

/** A regular expression as text; refused when JavaScript (Unicode mode) cannot compile it. */
export const RegexSource = z
  .string()
  .min(1)
  .max(1024)
  .refine((src) => {
    try {
      new RegExp(src, 'u');
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid regular expression');
