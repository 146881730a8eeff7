import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The engine and the schema files it shares run in the Worker too: no Node API, no clock, no randomness, no I/O. */
const ENGINE = resolve(import.meta.dirname, '../../agent-sdk/src/engine');
const SHARED = ['image-template.ts', 'audit-event.ts', 'image-reference.ts', 'masks.ts', 'capabilities.ts'].map((f) => resolve(import.meta.dirname, '../../schema', f));
const files = (dir: string): string[] => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? files(join(dir, f)) : f.endsWith('.ts') ? [join(dir, f)] : []));

const FORBIDDEN = [/from ['"]node:/, /from ['"](fs|path|os|crypto|child_process)['"]/, /\bprocess\./, /\bBuffer\b/, /Date\.now\(/, /new Date\(\)/, /Math\.random/, /\bfetch\(/, /performance\.now/, /require\(/];

describe('engine purity', () => {
  it.each([...files(ENGINE), ...SHARED])('%s uses no Node API, clock or randomness', (file) => {
    // Comments may show how callers use it (the TSDoc example passes new Date()); code may not.
    const source = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const pattern of FORBIDDEN) expect(source, String(pattern)).not.toMatch(pattern);
  });
});
