/**
 * Name masks: `*` matches any run of characters (including none); everything else is literal. Matched by the
 * classic wildcard walk (remember the last star, retry from one character further on a mismatch): at most
 * mask × value steps, so no mask, however many stars it holds, backtracks exponentially as a regex would.
 */
export function matchesMask(mask: string, value: string): boolean {
  if (!mask.includes('*')) return mask === value;
  let m = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (m < mask.length && mask[m] === '*') {
      star = m++;
      resume = v;
    } else if (m < mask.length && mask[m] === value[v]) {
      m++;
      v++;
    } else if (star !== -1) {
      m = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (m < mask.length && mask[m] === '*') m++;
  return m === mask.length;
}
