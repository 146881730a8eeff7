import { z } from 'zod';

export type JsonSchema = { [keyword: string]: unknown };
/** `input`: what a request may send (defaults optional); `output`: what the server answers (defaults filled in). */
export type Io = 'input' | 'output';

const COMPONENTS = '#/components/schemas/';
const DEFS = '#/$defs/';

/**
 * The component name of a named (`.meta({ id })`) schema in one direction. A request body `XInput` keeps its id; the
 * same schema as the server stores and answers it (e.g. a revision's document) is `XSpec`, like its TypeScript type.
 */
export function componentName(id: string, io: Io): string {
  return io === 'output' && id.endsWith('Input') ? `${id.slice(0, -'Input'.length)}Spec` : id;
}

export const componentRef = (name: string) => ({ $ref: COMPONENTS + name });

function rewriteRefs(node: unknown, io: Io): unknown {
  if (Array.isArray(node)) return node.map((n) => rewriteRefs(n, io));
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === '$ref' && typeof value === 'string' && value.startsWith(DEFS) ? COMPONENTS + componentName(value.slice(DEFS.length), io) : rewriteRefs(value, io);
  }
  return out;
}

/**
 * Turns zod schemas into JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1) with zod's own `z.toJSONSchema`.
 * Every named schema met on the way becomes one entry of `components.schemas` and is referenced from then on.
 */
export class SchemaComponents {
  readonly schemas: Record<string, JsonSchema> = {};
  private readonly seen = new Map<string, string>();
  private readonly done = { input: new Map<z.ZodType, JsonSchema>(), output: new Map<z.ZodType, JsonSchema>() };

  /** The schema of a body or parameter: a `$ref` for a named schema, the schema itself otherwise. */
  of(schema: z.ZodType, io: Io): JsonSchema {
    let result = this.done[io].get(schema);
    if (!result) this.done[io].set(schema, (result = this.generate(schema, io)));
    return result;
  }

  private generate(schema: z.ZodType, io: Io): JsonSchema {
    const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io }) as JsonSchema;
    const { $schema: _dialect, $defs, ...root } = generated;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>)) {
      this.add(componentName(id, io), rewriteRefs(definition, io) as JsonSchema);
    }
    return rewriteRefs(root, io) as JsonSchema;
  }

  /** A component written by hand (e.g. shared by several responses) rather than from a zod schema. */
  add(name: string, definition: JsonSchema): void {
    const text = JSON.stringify(definition);
    const before = this.seen.get(name);
    if (before !== undefined && before !== text) throw new Error(`two different schemas would be components.schemas.${name}`);
    this.seen.set(name, text);
    this.schemas[name] = definition;
  }
}
