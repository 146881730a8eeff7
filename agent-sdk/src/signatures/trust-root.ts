import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TrustedRootDocument } from '../../../schema/signature-validators.ts';

let publicGood: TrustedRootDocument | undefined;

/**
 * Sigstore's public-good trusted root (Fulcio, Rekor, CT log, TSA keys), as embedded in `@sigstore/tuf`'s seeds: no
 * network is needed. It changes when the package is updated; a private deployment uploads its own root instead.
 */
export function publicGoodTrustedRoot(): TrustedRootDocument {
  if (!publicGood) {
    const seeds = JSON.parse(readFileSync(createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json'), 'utf8')) as Record<string, { targets: Record<string, string> }>;
    const encoded = seeds['https://tuf-repo-cdn.sigstore.dev']?.targets['trusted_root.json'];
    if (!encoded) throw new Error('@sigstore/tuf seeds carry no trusted_root.json');
    publicGood = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as TrustedRootDocument;
  }
  return publicGood;
}
