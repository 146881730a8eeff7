import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = resolve(import.meta.dirname, '../../..');
export const PSA_DIR = resolve(REPO_ROOT, '../shared/conformance/psa');

/** Every Kubernetes object in a YAML file: all documents, with `List`-style documents (`items`) flattened. */
export function readObjects(file: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
    const value = doc.toJS() as Record<string, unknown> | null;
    if (!value || typeof value !== 'object') continue;
    if (Array.isArray(value.items)) out.push(...(value.items as Array<Record<string, unknown>>));
    else out.push(value);
  }
  return out;
}

export const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
    .sort()
    .map((f) => join(dir, f));
