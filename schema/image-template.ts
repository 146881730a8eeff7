import { Glob, type GlobPiece } from './glob.ts';
import { matchesMask } from './masks.ts';
import { DEFAULT_REGISTRY, tryParseImageReference, type ImageReference } from './image-reference.ts';

/**
 * Image URL templates: the one matcher for exclusions, runtime-profile mappings and signature rules.
 *
 * A template is read like an image reference (see `parseImageReference`) and matched on the normalized reference.
 * (Examples below write a slash after `**` as `{slash}`, which a block comment cannot hold.)
 * - `*` matches within one path segment: `ghcr.io/acme/*` matches `ghcr.io/acme/web`, not `ghcr.io/acme/a/web`.
 *   `**` matches across segments, including none: `ghcr.io/**` matches `ghcr.io/a/b/web`, and
 *   `ghcr.io/**{slash}web` matches both `ghcr.io/web` and `ghcr.io/a/b/web`.
 * - The registry is read as the normalizer reads it: the first segment is a host when it holds `.` or `:` or is
 *   `localhost`; otherwise the template is on Docker Hub, and a single-segment Docker Hub path gets `library/`.
 *   So `nginx` is `docker.io/library/nginx`, `index.docker.io/nginx` the same, and `*{slash}nginx` is
 *   `docker.io/*{slash}nginx`. A template that starts with `**` spans the registry too: `**` matches every image and
 *   `**{slash}nginx` any registry's `nginx` (`docker.io/library/nginx`, `ghcr.io/acme/nginx`).
 * - Tag and digest: a template with neither matches the repository with any tag or digest (`nginx` matches
 *   `nginx`, `nginx:1.25` and `nginx@sha256:…`). With a tag part the image's tag must match it: the implied `latest`
 *   counts, a digest-only image has no tag (`nginx:*` is any tag, `nginx:1.*` any 1.x tag). With a digest part the
 *   image's digest must match it. Both given: both must match.
 *
 * A template equal to a reference's canonical form therefore always matches that reference.
 */
export interface ImageTemplate {
  readonly source: string;
  /** Normalized form: `docker.io/library/nginx:1.*`. */
  readonly normalized: string;
  readonly name: Glob;
  /** Masks (`*` any run) for the tag and digest. */
  readonly tag?: string;
  readonly digest?: string;
}

const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);
/** `*` within a segment, `**` anywhere in it across segments. */
function segmentPieces(part: string): GlobPiece[] {
  return part
    .split(/(\*\*|\*)/)
    .filter((p) => p !== '')
    .map((p): GlobPiece => (p === '**' ? { kind: 'anyStar' } : p === '*' ? { kind: 'segmentStar' } : { kind: 'literal', text: p }));
}

/** A whole `**` segment also stands for no segment at all: `a/**{slash}b` matches `a/b`. */
function pathGlob(path: string): Glob {
  const parts = path.split('/');
  const pieces: GlobPiece[] = [];
  parts.forEach((part, i) => {
    if (part === '**') {
      if (i > 0) pieces.push({ kind: 'optional', pieces: [{ kind: 'literal', text: '/' }, { kind: 'anyStar' }] });
      else if (parts.length > 1) pieces.push({ kind: 'optional', pieces: [{ kind: 'anyStar' }, { kind: 'literal', text: '/' }] });
      else pieces.push({ kind: 'anyStar' });
      return;
    }
    if (i > 0 && !(i === 1 && parts[0] === '**')) pieces.push({ kind: 'literal', text: '/' });
    pieces.push(...segmentPieces(part));
  });
  return new Glob(pieces);
}

/** Reads a template; `undefined` when it is empty or holds whitespace. */
export function compileImageTemplate(template: string): ImageTemplate | undefined {
  const source = template.trim();
  if (source.length === 0 || /\s/.test(source)) return undefined;
  let rest = source;
  let digest: string | undefined;
  let tag: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) [rest, digest] = [rest.slice(0, at), rest.slice(at + 1)];
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) [rest, tag] = [rest.slice(0, colon), rest.slice(colon + 1)];
  if (rest.length === 0) return undefined;
  let name: string;
  if (rest === '**' || rest.startsWith('**/')) name = rest;
  else {
    const slash = rest.indexOf('/');
    const first = slash >= 0 ? rest.slice(0, slash) : '';
    const isHost = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase());
    let registry = isHost ? first.toLowerCase() : DEFAULT_REGISTRY;
    if (DOCKER_HUB_ALIASES.has(registry)) registry = DEFAULT_REGISTRY;
    let path = isHost ? rest.slice(slash + 1) : rest;
    if (registry === DEFAULT_REGISTRY && !path.includes('/') && path !== '**') path = `library/${path}`;
    name = `${registry}/${path}`;
  }
  const normalized = name + (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
  return { source, normalized, name: pathGlob(name), tag, digest };
}

const cache = new Map<string, ImageTemplate | null>();

function cached(template: string): ImageTemplate | undefined {
  let compiled = cache.get(template);
  if (compiled === undefined) {
    compiled = compileImageTemplate(template) ?? null;
    if (cache.size > 10_000) cache.clear();
    cache.set(template, compiled);
  }
  return compiled ?? undefined;
}

/** Whether an image (a reference string, or one already parsed) matches a template. An invalid image matches nothing. */
export function matchesImageTemplate(template: string | ImageTemplate, image: string | ImageReference): boolean {
  const t = typeof template === 'string' ? cached(template) : template;
  const ref = typeof image === 'string' ? tryParseImageReference(image) : image;
  if (!t || !ref) return false;
  if (!t.name.test(ref.name)) return false;
  if (t.tag !== undefined && (ref.tag === undefined || !matchesMask(t.tag, ref.tag))) return false;
  if (t.digest !== undefined && (ref.digest === undefined || !matchesMask(t.digest, ref.digest))) return false;
  return true;
}
