/**
 * JSON with object keys folded to lower case, refusing duplicates after folding. Cosign (Go's encoding/json) reads
 * simple-signing payload keys case-insensitively and lets the last duplicate win; a verifier that read a different
 * duplicate than cosign would check a different digest, so an ambiguous payload is refused outright.
 */
export class StrictJsonError extends Error {}

const STRING = /"(?:[^"\\\u0000-\u001f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const SPACE = /[ \t\r\n]*/y;
const MAX_DEPTH = 32;

export function parseStrictJson(text: string): unknown {
  let i = 0;
  const skip = () => {
    SPACE.lastIndex = i;
    SPACE.exec(text);
    i = SPACE.lastIndex;
  };
  const take = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m) throw new StrictJsonError(`invalid JSON at offset ${i}`);
    i = re.lastIndex;
    return m[0];
  };
  const value = (depth: number): unknown => {
    if (depth > MAX_DEPTH) throw new StrictJsonError('JSON nested too deeply');
    skip();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const out: Record<string, unknown> = Object.create(null);
      skip();
      if (text[i] === '}') return (i++, out);
      for (;;) {
        skip();
        const key = (JSON.parse(take(STRING)) as string).toLowerCase();
        if (key in out) throw new StrictJsonError(`duplicate key "${key}" (keys are compared case-insensitively)`);
        skip();
        if (text[i++] !== ':') throw new StrictJsonError(`expected ":" at offset ${i - 1}`);
        out[key] = value(depth + 1);
        skip();
        const next = text[i++];
        if (next === '}') return out;
        if (next !== ',') throw new StrictJsonError(`expected "," or "}" at offset ${i - 1}`);
      }
    }
    if (ch === '[') {
      i++;
      const out: unknown[] = [];
      skip();
      if (text[i] === ']') return (i++, out);
      for (;;) {
        out.push(value(depth + 1));
        skip();
        const next = text[i++];
        if (next === ']') return out;
        if (next !== ',') throw new StrictJsonError(`expected "," or "]" at offset ${i - 1}`);
      }
    }
    if (ch === '"') return JSON.parse(take(STRING));
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const)
      if (text.startsWith(word, i)) return ((i += word.length), v);
    return Number(take(NUMBER));
  };
  const result = value(0);
  skip();
  if (i !== text.length) throw new StrictJsonError(`trailing data at offset ${i}`);
  return result;
}
