const cache = new Map<string, RegExp>();

/** Name masks: `*` matches any run of characters (including none); everything else is literal. */
export function matchesMask(mask: string, value: string): boolean {
  if (!mask.includes('*')) return mask === value;
  let re = cache.get(mask);
  if (!re) {
    re = new RegExp(`^${mask.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
    if (cache.size > 10_000) cache.clear();
    cache.set(mask, re);
  }
  return re.test(value);
}
