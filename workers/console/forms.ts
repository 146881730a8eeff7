import type { FieldError } from '../../schema/problem.ts';

/** A form as posted, nested by the dots in field names (`a.items.0.name`); numeric segments make arrays. */
export type Raw = { [key: string]: RawValue };
export type RawValue = string | string[] | Raw | RawValue[] | undefined;

/**
 * Nests `name=value` pairs by the dots in their names. `isList(name)` says which names always hold a list (multiple
 * selects, checkbox groups), so one chosen value is still a list. Array holes left by removed rows close up.
 */
export function unflatten(entries: Iterable<[string, string]>, isList: (name: string) => boolean): Raw {
  const root: Raw = {};
  for (const [name, value] of entries) {
    if (name.startsWith('_')) continue;
    const parts = name.split('.');
    let node: any = root;
    parts.forEach((part, i) => {
      const last = i === parts.length - 1;
      const key: string | number = /^\d{1,4}$/.test(part) ? Number(part) : part;
      if (last) {
        if (isList(name.replace(/\.\d+(?=\.|$)/g, '.*'))) (node[key] ??= []).push(value);
        else node[key] = value;
      } else {
        node[key] ??= /^\d{1,4}$/.test(parts[i + 1]!) ? [] : {};
        node = node[key];
      }
    });
  }
  const compact = (v: any): any => (Array.isArray(v) ? v.filter((x) => x !== undefined).map(compact) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, compact(x)])) : v);
  return compact(root);
}

export const str = (v: RawValue): string => (typeof v === 'string' ? v : '');
export const list = (v: RawValue): string[] => (Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : typeof v === 'string' && v !== '' ? [v] : []);
export const rows = (v: RawValue): Raw[] => (Array.isArray(v) ? (v as unknown[]).filter((x): x is Raw => !!x && typeof x === 'object' && !Array.isArray(x)) : []);
export const obj = (v: RawValue): Raw => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
export const lines = (v: RawValue): string[] => str(v).split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
export const checked = (v: RawValue) => str(v) === 'true';

/** Walks a dotted path, creating what is missing; answers the parent and the last key. */
function locate(raw: Raw, path: string): [any, string | number] {
  const parts = path.split('.');
  let node: any = raw;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = /^\d+$/.test(parts[i]!) ? Number(parts[i]) : parts[i]!;
    node[part] ??= /^\d+$/.test(parts[i + 1]!) ? [] : {};
    node = node[part];
  }
  const last = parts.at(-1)!;
  return [node, /^\d+$/.test(last) ? Number(last) : last];
}

/** `add:PATH` appends a blank row to the list at PATH; `remove:PATH.N` removes row N. Answers whether it acted. */
export function applyRowAction(raw: Raw, action: string, blank: (path: string) => Raw | string): boolean {
  const [verb, path] = action.split(':', 2) as [string, string | undefined];
  if (!path || !/^[A-Za-z0-9.]+$/.test(path)) return false;
  if (verb === 'add') {
    const [parent, key] = locate(raw, path);
    if (!Array.isArray(parent[key])) parent[key] = [];
    if (parent[key].length < 200) parent[key].push(blank(path.replace(/\.\d+(?=\.|$)/g, '.*')));
    return true;
  }
  if (verb === 'remove') {
    const [parent, key] = locate(raw, path);
    if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
    return true;
  }
  return false;
}

/** Where each field error of a problem is shown: at the deepest field whose pointer is a prefix of the error's. */
export class ErrorPlacement {
  private readonly byAnchor = new Map<string, string[]>();
  readonly unplaced: FieldError[] = [];

  constructor(errors: readonly FieldError[], anchors: readonly string[]) {
    const sorted = [...new Set(anchors)].sort((a, b) => b.length - a.length);
    for (const error of errors) {
      const pointer = error.pointer ?? '';
      const anchor = sorted.find((a) => pointer === a || pointer.startsWith(a + '/'));
      if (anchor === undefined) {
        this.unplaced.push(error);
        continue;
      }
      const rest = pointer.slice(anchor.length).split('/').filter(Boolean).map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
      const where = rest.length === 0 ? '' : /^\d+$/.test(rest[0]!) ? `item ${Number(rest[0]) + 1}${rest.length > 1 ? ` (${rest.slice(1).join('.')})` : ''}: ` : `${rest.join('.')}: `;
      this.byAnchor.set(anchor, [...(this.byAnchor.get(anchor) ?? []), where + error.detail]);
    }
  }

  at(pointer: string): string[] {
    return this.byAnchor.get(pointer) ?? [];
  }

  get count(): number {
    return [...this.byAnchor.values()].reduce((n, e) => n + e.length, 0) + this.unplaced.length;
  }
}

/** A DOM id for a field name (dots and other characters CSS selectors dislike become dashes). */
export const fieldId = (name: string) => 'f-' + name.replace(/[^A-Za-z0-9_-]/g, '-');

/** `2026-05-01T10:00` (datetime-local, read as UTC) → RFC 3339; other text is passed on for the API to judge. */
export function localToIso(value: string): string | undefined {
  if (value === '') return undefined;
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value) ? `${value}:00Z` : value;
}
export const isoToLocal = (iso: string | undefined) => (iso ? new Date(iso).toISOString().slice(0, 16) : '');

/** The member a JSON Pointer names in a document (undefined when absent). */
export const valueAt = (doc: unknown, pointer: string): unknown =>
  pointer
    .split('/')
    .slice(1)
    .reduce<unknown>((node, key) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[key.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined), doc);

/** A value as the conflict and history tables show it. */
export const showValue = (v: unknown) => (v === undefined ? '(not set)' : JSON.stringify(v));
