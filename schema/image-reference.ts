/**
 * Container image references, normalized the way Docker and containerd do (distribution/reference):
 * `ubuntu:focal`, `docker.io/library/ubuntu:focal` and `index.docker.io/library/ubuntu:focal` are one image.
 */
export interface ImageReference {
  /** Registry host with port, lowercase: `docker.io`, `ghcr.io`, `localhost:5000`. */
  registry: string;
  /** Repository path inside the registry: `library/ubuntu`. */
  repository: string;
  /** The tag, `latest` when the reference named neither tag nor digest. */
  tag?: string;
  /** True when the reference itself carried the tag. */
  tagExplicit: boolean;
  digest?: string;
  /** `registry/repository`. */
  name: string;
  /** `registry/repository[:tag][@digest]`, the form templates and allow-lists are matched on. */
  canonical: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;

export const DEFAULT_REGISTRY = 'docker.io';

export class ImageReferenceError extends Error {
  readonly code = 'INVALID_IMAGE_REFERENCE';
  constructor(readonly reference: string, reason: string) {
    super(`invalid image reference "${reference}": ${reason}`);
  }
}

/** Parses and normalizes a reference; throws {@link ImageReferenceError} when it is not one. */
export function parseImageReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref.length === 0 || ref.length > 4096) throw new ImageReferenceError(input, 'empty or too long');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw new ImageReferenceError(input, 'malformed digest');
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) throw new ImageReferenceError(input, 'sha256 digest must be 64 lowercase hex characters');
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new ImageReferenceError(input, 'malformed tag');
  }
  let registry = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('[') || first !== first.toLowerCase()) {
      if (!HOST.test(first)) throw new ImageReferenceError(input, 'malformed registry host');
      registry = first.toLowerCase();
      path = rest.slice(slash + 1);
    }
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DEFAULT_REGISTRY;
  const components = path.split('/');
  if (components.some((c) => !COMPONENT.test(c))) throw new ImageReferenceError(input, 'repository path must be lowercase letters, digits and separators');
  if (registry === DEFAULT_REGISTRY && components.length === 1) components.unshift('library');
  const repository = components.join('/');
  const tagExplicit = tag !== undefined;
  if (tag === undefined && digest === undefined) tag = 'latest';
  const name = `${registry}/${repository}`;
  const canonical = name + (tag !== undefined ? `:${tag}` : '') + (digest !== undefined ? `@${digest}` : '');
  return { registry, repository, tag, tagExplicit, digest, name, canonical };
}

/** Like {@link parseImageReference} but answers `undefined` for an invalid reference. */
export function tryParseImageReference(input: string): ImageReference | undefined {
  try {
    return parseImageReference(input);
  } catch {
    return undefined;
  }
}
