import { matchesImageTemplate } from '../../../../schema/image-template.ts';
import { parseImageReference, type ImageReference } from '../../../../schema/image-reference.ts';
import { list, type ContainerSpec, type PodSpec } from '../k8s.ts';
import type { ContainerType, ContainerView } from '../types.ts';

/** What depends on an image string alone: its parsed reference (or why it is none) and its template matches. */
interface ImageFacts {
  ref?: ImageReference;
  error?: string;
  templates: Map<string, boolean>;
}

/** A container view that knows its image's facts (the compiled evaluator's own; checks see a plain `ContainerView`). */
export interface CompiledView extends ContainerView {
  facts: ImageFacts;
}

const TYPES: Array<[keyof PodSpec, ContainerType]> = [
  ['initContainers', 'initContainer'],
  ['containers', 'container'],
  ['ephemeralContainers', 'ephemeralContainer'],
];

/**
 * Image facts kept across decisions: a cluster runs few distinct images in many pods, so each image is parsed and
 * matched against each template once per bundle revision, not once per pod. Bounded: past `max` images it starts
 * over (a pathological stream of distinct images costs what it did without the cache).
 */
export class ImageCache {
  readonly #facts = new Map<string, ImageFacts>();
  constructor(private readonly max = 4096) {}

  facts(image: string): ImageFacts {
    let f = this.#facts.get(image);
    if (f === undefined) {
      f = { templates: new Map() };
      try {
        f.ref = parseImageReference(image);
      } catch (err) {
        f.error = err instanceof Error ? err.message : String(err);
      }
      if (this.#facts.size >= this.max) this.#facts.clear();
      this.#facts.set(image, f);
    }
    return f;
  }

  /** `containerViews`, with the image facts cached. */
  views(spec: PodSpec): CompiledView[] {
    const out: CompiledView[] = [];
    for (const [field, type] of TYPES) {
      for (const c of list<ContainerSpec>(spec[field])) {
        if (c === null || typeof c !== 'object') continue;
        const image = typeof c.image === 'string' ? c.image : '';
        const facts = this.facts(image);
        const view: CompiledView = { name: typeof c.name === 'string' ? c.name : '', type, spec: c, image, facts };
        if (facts.ref !== undefined) view.ref = facts.ref;
        else view.imageError = facts.error;
        out.push(view);
      }
    }
    return out;
  }
}

/** `matchesImageTemplate(template, view.ref)`, remembered per image. */
export function matchesTemplate(view: ContainerView, template: string): boolean {
  const facts = (view as CompiledView).facts;
  let hit = facts.templates.get(template);
  if (hit === undefined) {
    hit = matchesImageTemplate(template, view.ref!);
    if (facts.templates.size < 256) facts.templates.set(template, hit);
  }
  return hit;
}
