/**
 * Canonical JSON (RFC 8785 style for the values we emit): object keys sorted by UTF-16 code units, no whitespace,
 * `undefined` members dropped. The same document always gives the same bytes, so its digest identifies it.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no NaN or Infinity');
      return JSON.stringify(value);
    case 'object': {
      if (value === null) return 'null';
      // Hand-rolled rather than entries/filter/sort/map/join: a megabyte bundle is serialized on every change.
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : canonicalJson(item);
        }
        return out + ']';
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      // Most objects arrive with their keys in order already; sort only those that do not.
      for (let i = 1; i < keys.length; i++) {
        if (keys[i - 1]! > keys[i]!) {
          keys.sort();
          break;
        }
      }
      let out = '{';
      for (const key of keys) {
        const item = record[key];
        if (item === undefined) continue;
        if (out.length > 1) out += ',';
        out += JSON.stringify(key) + ':' + canonicalJson(item);
      }
      return out + '}';
    }
    default:
      throw new TypeError(`canonical JSON cannot hold ${typeof value}`);
  }
}

/** `sha256:<hex>` of the canonical form. Web Crypto only, so Workers, Node and the agent share it. */
export function contentDigest(value: unknown): Promise<string> {
  return sha256Digest(canonicalJson(value));
}

/** `sha256:<hex>` of a string's UTF-8 bytes. */
export async function sha256Digest(text: string): Promise<string> {
  const bytes = new TextEncoder().encode(text);
  const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return 'sha256:' + Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
}
