import { breakable, esc, inline, markdown, refName, schemaAnchor, schemaBlock, slug, typeOf } from './docs.schema.ts';
import { METHODS, type OpenApiDocument } from './openapi.document.ts';
import type { Operation } from './openapi.operations.ts';
import type { JsonSchema } from './openapi.schemas.ts';

// Long paths and names wrap between their parts (see `breakable`), never mid-word; a JSON Schema <pre> takes no
// width of its own (width 0, min-width 100%), so it scrolls inside its table cell instead of widening the page; a
// deeply nested schema on a narrow screen scrolls inside its card. Below 64rem the navigation goes on top.
const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1d232a;display:flex}
nav{position:sticky;top:0;height:100vh;overflow:auto;width:19rem;flex:none;background:#f3f5f7;padding:1rem;box-sizing:border-box}
nav a{display:block;color:#1d232a;text-decoration:none;padding:.1rem 0;overflow-wrap:anywhere}nav .op{font-size:.85em;padding-left:1.6rem;text-indent:-1rem}
main{padding:1rem 2rem 4rem;max-width:72rem;min-width:0}h2{border-bottom:2px solid #d0d7de;padding-bottom:.3rem;margin-top:2.5rem}
article{border:1px solid #d0d7de;border-radius:6px;padding:.5rem 1rem;margin:1rem 0;overflow-x:auto}
.m{display:inline-block;min-width:4rem;text-align:center;border-radius:4px;color:#fff;font-weight:600;font-size:.8em;padding:.1rem .4rem;margin-right:.5rem}
.get{background:#1f7a4d}.post{background:#1f5fad}.put{background:#8a5a00}.patch{background:#6b46c1}.delete{background:#b42318}
.right{background:#fff4d6;border:1px solid #e8c770;border-radius:4px;padding:0 .4rem;font-size:.85em}
table{border-collapse:collapse;width:100%;margin:.4rem 0;font-size:.9em}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}tr.shape td{background:#f3f5f7;font-style:italic}code{font-size:.9em;background:#f3f5f7;padding:0 .2rem;border-radius:3px;overflow-wrap:break-word}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;font-size:.8em;max-height:30rem;width:0;min-width:100%;box-sizing:border-box}details{margin:.3rem 0}h4{margin:.8rem 0 .2rem}
@media (max-width:64rem){body{display:block}nav{position:static;height:auto;width:auto;max-height:40vh}main{padding:1rem}}`;

type Entry = { path: string; method: string; op: Operation };
const opAnchor = (op: Operation) => `op-${esc(op.operationId)}`;
const tagAnchor = (tag: string) => `tag-${slug(tag)}`;

function parameters(list: JsonSchema[] | undefined): string {
  if (!list?.length) return '';
  const rows = list.map(
    (p) => `<tr><td><code>${breakable(esc(p.name))}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'required' : ''}</td><td>${typeOf(p.schema as JsonSchema)}</td><td>${inline(String(p.description ?? ''))}</td></tr>`,
  );
  return `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th></th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

/** A body's schema: a link to a named schema, or the schema itself. */
function content(media: Record<string, { schema?: JsonSchema }> | undefined): string {
  if (!media) return '';
  return Object.entries(media)
    .map(([type, { schema }]) => {
      const note = typeof schema?.description === 'string' ? ` — ${inline(schema.description)}` : '';
      return `<div><code>${esc(type)}</code> ${schema && !refName(schema) && (schema.properties || schema.oneOf) ? schemaBlock(schema) : typeOf(schema) + note}</div>`;
    })
    .join('');
}

function requestBody(body: JsonSchema | undefined): string {
  if (!body) return '';
  const description = typeof body.description === 'string' ? `<p>${inline(body.description)}</p>` : '';
  return `<h4>Request body</h4>${description}${content(body.content as never)}`;
}

function responses(all: Record<string, JsonSchema>): string {
  const rows = Object.entries(all).map(([status, r]) => {
    const headers = Object.keys((r.headers as object | undefined) ?? {});
    const extra = headers.length ? `<br>Headers: ${headers.map((h) => `<code>${esc(h)}</code>`).join(', ')}` : '';
    return `<tr><td>${esc(status)}</td><td>${inline(String(r.description ?? ''))}${extra}</td><td>${content(r.content as never)}</td></tr>`;
  });
  return `<h4>Responses</h4><table><thead><tr><th>Status</th><th>Meaning</th><th>Body</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function access(op: Operation): string {
  const right = op['x-palisade-right'];
  const rights = typeof right === 'string' ? [right] : Array.isArray(right) ? right : [];
  if (rights.length) return `<p>Needs ${rights.map((r) => `<span class="right">${esc(r)}</span>`).join(' and ')}</p>`;
  const security = op.security as Array<Record<string, unknown>> | undefined;
  if (security?.length === 0) return '<p>No credential needed.</p>';
  if (security?.some((s) => 'operatorKey' in s)) return '<p>Needs the <span class="right">platform operator key</span></p>';
  if (security?.some((s) => 'agentCredential' in s)) return '<p>Needs a <span class="right">cluster credential</span></p>';
  return '';
}

function operation({ path, method, op }: Entry): string {
  const description = typeof op.description === 'string' ? markdown(op.description.replace(/^Needs the rights? (`[^`]+`( and )?)+\.(\n\n|$)/, '')) : '';
  return `<article id="${opAnchor(op)}"><h3><span class="m ${method}">${method.toUpperCase()}</span><code>${breakable(esc(path))}</code></h3>
<p><strong>${esc(op.summary)}</strong></p>${access(op)}${description}${parameters(op.parameters as JsonSchema[])}${requestBody(op.requestBody as JsonSchema)}${responses(op.responses as Record<string, JsonSchema>)}</article>`;
}

/** The whole API description as one self-contained page: operations by tag, then every named schema. */
export function renderDocsPage(doc: OpenApiDocument): string {
  const byTag = new Map<string, Entry[]>(doc.tags.map((t) => [t.name, []]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = (op.tags as string[] | undefined)?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), { path, method, op }]);
    }
  }
  const schemas = Object.entries(doc.components.schemas);
  const nav = [...byTag]
    .map(([tag, entries]) => `<a href="#${tagAnchor(tag)}"><strong>${esc(tag)}</strong></a>${entries.map((e) => `<a class="op" href="#${opAnchor(e.op)}">${e.method.toUpperCase()} ${breakable(esc(e.path))}</a>`).join('')}`)
    .join('');
  const sections = [...byTag].map(([tag, entries]) => `<section id="${tagAnchor(tag)}"><h2>${esc(tag)}</h2>${entries.map(operation).join('\n')}</section>`);
  const schemaSection = schemas.map(([name, s]) => `<article id="${schemaAnchor(esc(name))}"><h3>${esc(name)}</h3>${schemaBlock(s)}</article>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(doc.info.title)} ${esc(doc.info.version)}</title><style>${STYLE}</style></head>
<body><nav><a href="#top"><strong>${esc(doc.info.title)}</strong></a>${nav}<a href="#schemas"><strong>Schemas</strong></a></nav>
<main id="top"><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>${markdown(doc.info.description)}
<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
${sections.join('\n')}
<section id="schemas"><h2>Schemas</h2>${schemaSection.join('\n')}</section></main></body></html>`;
}
