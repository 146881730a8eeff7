import type { JsonSchema } from './openapi.schemas.ts';

const REF = '#/components/schemas/';
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
const MAX_DEPTH = 8;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (value: unknown) => String(value).replace(/[&<>"']/g, (ch) => ENTITIES[ch]!);

/**
 * Escaped text with line-break opportunities after `/`, `.`, `_` and `,`: long paths and dotted names wrap between
 * their parts, never inside a word (the page's CSS breaks a word only when one part alone is wider than the line).
 */
export const breakable = (escaped: string) => escaped.replace(/([/._,])(?=.)/g, '$1<wbr>');

/** An escaped regular expression with break opportunities after its groups, classes, quantifiers and alternatives. */
const breakablePattern = (escaped: string) => escaped.replace(/([)\]}|?*+])(?=.)/g, '$1<wbr>');

/** A fragment identifier for a display name: `Runtime policies` → `runtime-policies` (ids take no spaces). */
export const slug = (name: string) => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'x';

/** Inline Markdown the descriptions use: `code` and **bold**. */
export const inline = (text: string) => esc(text).replace(/`([^`]+)`/g, (_, c: string) => `<code>${breakable(c)}</code>`).replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');

/** Paragraphs and `- ` lists. */
export function markdown(text: string): string {
  return text
    .split(/\n{2,}/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split('\n');
      if (lines.every((l) => l.startsWith('- '))) return `<ul>${lines.map((l) => `<li>${inline(l.slice(2))}</li>`).join('')}</ul>`;
      return `<p>${inline(block)}</p>`;
    })
    .join('\n');
}

export const schemaAnchor = (name: string) => `schema-${name}`;
export const refName = (schema: JsonSchema | undefined) => (typeof schema?.$ref === 'string' && schema.$ref.startsWith(REF) ? schema.$ref.slice(REF.length) : undefined);

const asSchema = (value: unknown) => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonSchema) : undefined);
const variantsOf = (s: JsonSchema) => ((s.oneOf ?? s.anyOf) as JsonSchema[] | undefined);
const code = (value: unknown) => `<code>${breakable(esc(JSON.stringify(value)))}</code>`;

/** A one-line type: `string (uuid)`, `array of <a>Scope</a>`, `"audit" | "enforce"`. */
export function typeOf(s: JsonSchema | undefined): string {
  if (!s || Object.keys(s).length === 0) return 'any';
  const name = refName(s);
  if (name) return `<a href="#${schemaAnchor(name)}">${esc(name)}</a>`;
  if ('const' in s) return code(s.const);
  if (Array.isArray(s.enum)) return s.enum.map(code).join(' | ');
  const variants = variantsOf(s);
  if (variants) return [...new Set(variants.map(typeOf))].join(' | ');
  if (s.type === 'array') {
    const items = typeOf(asSchema(s.items));
    return `array of ${items.includes(' | ') ? `(${items})` : items}`;
  }
  const values = asSchema(s.additionalProperties);
  if (s.type === 'object' && !s.properties && values && Object.keys(values).length > 0) return `map of string → ${typeOf(values)}`;
  const type = esc(Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any'));
  return typeof s.format === 'string' ? `${type} (${esc(s.format)})` : type;
}

/** Bounds, pattern and default, briefly. */
function notes(s: JsonSchema): string {
  const parts: string[] = [];
  const range = (min: unknown, max: unknown, unit: string) => {
    if (min === undefined && max === undefined) return;
    parts.push(min !== undefined && max !== undefined ? `${unit} ${min}–${max}` : min !== undefined ? `${unit} ≥ ${min}` : `${unit} ≤ ${max}`);
  };
  range(s.minLength, s.maxLength, 'length');
  range(s.minItems, s.maxItems, 'items');
  const bound = (n: unknown) => (typeof n === 'number' && Math.abs(n) < SAFE_INTEGER ? n : undefined);
  range(bound(s.minimum), bound(s.maximum), 'value');
  if (typeof s.pattern === 'string' && typeof s.format !== 'string') parts.push(`pattern <code>${breakablePattern(esc(s.pattern))}</code>`);
  if ('default' in s && typeof s.default !== 'object') parts.push(`default ${code(s.default)}`);
  if (s.additionalProperties === false && s.properties) parts.push('no other members');
  const items = asSchema(s.items);
  if (items && !refName(items) && !items.properties) {
    const each = notes(items);
    if (each) parts.push(`each: ${each}`);
  }
  const description = typeof s.description === 'string' ? inline(s.description) : '';
  return [description, parts.join('; ')].filter(Boolean).join('<br>');
}

interface Row {
  path: string;
  type: string;
  required: boolean | undefined;
  notes: string;
}

/** Rows for the members of an object schema, descending into inline objects, arrays of them and their variants. */
function collect(s: JsonSchema, prefix: string, depth: number, rows: Row[]): void {
  if (depth > MAX_DEPTH) return;
  const variants = variantsOf(s);
  if (variants?.some((v) => asSchema(v.properties))) {
    variants.forEach((variant, i) => {
      rows.push({ path: `${prefix.replace(/\.$/, '') || '(document)'} — shape ${i + 1} of ${variants.length}`, type: typeOf(variant), required: undefined, notes: '' });
      collect(variant, prefix, depth + 1, rows);
    });
    return;
  }
  const properties = asSchema(s.properties);
  if (!properties) return;
  const required = new Set((s.required as string[] | undefined) ?? []);
  for (const [name, value] of Object.entries(properties)) {
    const prop = asSchema(value) ?? {};
    const path = prefix + name;
    rows.push({ path, type: typeOf(prop), required: required.has(name), notes: notes(prop) });
    if (refName(prop)) continue;
    const items = asSchema(prop.items);
    if (prop.properties || variantsOf(prop)) collect(prop, `${path}.`, depth + 1, rows);
    else if (items && !refName(items) && (items.properties || variantsOf(items))) collect(items, `${path}[].`, depth + 1, rows);
  }
}

/** A schema as a table of its members (when it has any) and, folded, as JSON Schema. */
export function schemaBlock(s: JsonSchema): string {
  const rows: Row[] = [];
  collect(s, '', 0, rows);
  const head = rows.length === 0 ? `<p class="type">${typeOf(s)}${notes(s) ? ` — ${notes(s)}` : ''}</p>` : '';
  const table = rows.length
    ? `<table class="props"><thead><tr><th>Member</th><th>Type</th><th></th><th>Notes</th></tr></thead><tbody>${rows
        .map((r) => `<tr${r.required === undefined ? ' class="shape"' : ''}><td><code>${esc(r.path)}</code></td><td>${r.type}</td><td>${r.required ? 'required' : ''}</td><td>${r.notes}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  return `${head}${table}<details><summary>JSON Schema</summary><pre>${esc(JSON.stringify(s, null, 2))}</pre></details>`;
}
