import type { BundleContentV1 } from '../../schema/bundle.ts';
import type { Right } from '../../schema/rights.ts';

type Section = 'runtimeProfiles' | 'signatureValidators' | 'images' | 'registries';

/** The right each section of a bundle needs, as its own endpoint (`/v1/<section>`) does. */
const SECTION_RIGHTS: ReadonlyArray<[Section, Right]> = [
  ['runtimeProfiles', 'runtimeProfiles.view'],
  ['signatureValidators', 'signatureValidators.view'],
  ['images', 'images.view'],
  ['registries', 'registries.view'],
];

/**
 * A bundle as a person may see it through `GET /v1/clusters/{id}/bundle`: whatever the caller could not read through
 * the objects' own endpoints is left out (emptied), by the same rules: a section without its view right, scopes
 * without `scopes.view`, the global scope without `scopes.viewGlobal`, File Threat Protection settings without
 * `fileThreatProtection.view` (and the signature set it names). `redacted` lists the JSON Pointers of what was left out (empty: the bundle is whole).
 */
export function bundleView(content: BundleContentV1, rights: ReadonlySet<Right>): { view: BundleContentV1 & { redacted?: string[] }; redacted: string[] } {
  const redacted: string[] = [];
  const view = { ...content } as BundleContentV1 & { redacted?: string[] };
  for (const [section, right] of SECTION_RIGHTS) {
    if (rights.has(right) || view[section].length === 0) continue;
    (view as Record<Section, unknown[]>)[section] = [];
    redacted.push(`/${section}`);
  }
  if (view.fileThreatProtection !== null && !rights.has('fileThreatProtection.view')) {
    view.fileThreatProtection = null;
    redacted.push('/fileThreatProtection');
  }
  if (view.fileSignatures && !rights.has('fileThreatProtection.view')) {
    delete view.fileSignatures;
    redacted.push('/fileSignatures');
  }
  const seeScope = (s: { global: boolean }) => rights.has('scopes.view') && (!s.global || rights.has('scopes.viewGlobal'));
  view.policies = content.policies.map((p, i) => {
    const scopes = p.scopes.filter(seeScope);
    if (scopes.length === p.scopes.length) return p;
    redacted.push(`/policies/${i}/scopes`);
    return { ...p, scopes };
  });
  if (redacted.length > 0) view.redacted = redacted;
  return { view, redacted };
}
