import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { harness } from '../support/harness.ts';
import { testPglite } from '../support/pglite.ts';

const database = await testPglite();
const h = harness(database);
let html = '';
const dir = mkdtempSync(join(tmpdir(), 'palisade-docs-'));
beforeAll(async () => {
  html = await (await h.app.request('/docs')).text();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await database.close();
});

const all = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1]!);

describe('GET /docs: anchors', () => {
  it('every id is unique and a valid fragment (no spaces), and every in-page link lands on one', () => {
    const ids = all(/\sid="([^"]*)"/g);
    expect(ids.filter((id) => /\s/.test(id) || id === '')).toEqual([]);
    expect(ids.length).toBe(new Set(ids).size);
    const targets = new Set(ids);
    const links = all(/href="#([^"]*)"/g);
    expect(links.length).toBeGreaterThan(100);
    expect([...new Set(links)].filter((l) => !targets.has(l))).toEqual([]);
  });

  it('tags with spaces get readable anchors', () => {
    expect(html).toContain('<section id="tag-runtime-policies"><h2>Runtime policies</h2>');
    expect(html).toContain('<a href="#tag-api-keys"><strong>API keys</strong></a>');
  });

  it('paths and inline code break only between their parts (slashes, dots), never with break-all', () => {
    expect(html).not.toMatch(/word-break:\s*break-all/);
    expect(html).toContain('>POST /<wbr>v1/<wbr>webhooks/<wbr>{id}/<wbr>deliveries/<wbr>{deliveryId}/<wbr>retry</a>');
    expect(html).toMatch(/<code>runtimePolicies.<wbr>manage<\/code>|<span class="right">runtimePolicies.manage<\/span>/);
  });
});

/**
 * The page laid out by a real browser (headless Chromium, as CI installs it) at a laptop's width and a narrow one:
 * a script added to a copy of the page measures, and the DOM is dumped with its findings.
 */
async function layout(width: number): Promise<{ cutNav: string[]; midWord: string[]; pageOverflow: number }> {
  const probe = `<script>
  const cutNav = [...document.querySelectorAll('nav a')].filter((a) => a.scrollWidth > a.clientWidth + 1).map((a) => a.textContent);
  const midWord = [];
  for (const code of document.querySelectorAll('code')) {
    if (code.getClientRects().length < 2) continue;
    const chars = [];
    const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) for (let i = 0; i < n.data.length; i++) chars.push([n, i]);
    let lastTop, lastChar;
    for (const [node, i] of chars) {
      const r = document.createRange(); r.setStart(node, i); r.setEnd(node, i + 1);
      const rect = r.getClientRects()[0];
      if (!rect) continue;
      // A line break between two letters or digits splits a word.
      if (lastTop !== undefined && rect.top > lastTop + 2 && /[A-Za-z0-9]/.test(lastChar) && /[A-Za-z0-9]/.test(node.data[i])) midWord.push(code.textContent);
      lastTop = rect.top; lastChar = node.data[i];
    }
  }
  const pageOverflow = document.documentElement.scrollWidth - innerWidth;
  const out = document.createElement('pre');
  out.id = ['probe', 'result'].join('-');
  out.textContent = JSON.stringify({ cutNav, midWord: [...new Set(midWord)], pageOverflow });
  document.body.append(out);
</script>`;
  const file = join(dir, `docs-${width}.html`);
  writeFileSync(file, html.replace('</body>', `${probe}</body>`));
  const { stdout } = await promisify(execFile)(
    'chromium',
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--window-size=${width},900`, '--virtual-time-budget=10000', '--dump-dom', `file://${file}`],
    { maxBuffer: 64 * 1024 * 1024, timeout: 90_000 },
  );
  const result = /<pre id="probe-result">(.*?)<\/pre>/s.exec(stdout);
  if (!result) throw new Error(`no probe result in the dumped DOM (${stdout.length} bytes)`);
  return JSON.parse(result[1]!.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&'));
}

describe('GET /docs: layout in Chromium', { timeout: 120_000 }, () => {
  it.each([1280, 900])('at %ipx no navigation entry is cut off, no inline code breaks mid-word, nothing overflows the page', async (width) => {
    const found = await layout(width);
    expect(found.cutNav).toEqual([]);
    expect(found.midWord).toEqual([]);
    expect(found.pageOverflow).toBeLessThanOrEqual(0);
  });
});
