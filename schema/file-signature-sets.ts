import { z } from 'zod';
import { canonicalJson, sha256Digest } from './canonical-json.ts';
import { Description, Metadata, Name } from './common.ts';
import { EICAR_SIGNATURE, FileSignature, SIGNATURE_SET_API_VERSION, type SignatureSetDocument } from './file-signatures.ts';

/**
 * Signature sets a tenant uploads (`/v1/file-signature-sets`) and the one effective set its agents download
 * (`/v1/agent/file-signatures`): every set merged, deduplicated, sorted, EICAR always first. The signed bundle names
 * the effective set's version and digest; agents refuse a set whose digest is not the one their bundle names.
 */

/** Largest upload of one set (the request body). */
export const MAX_SIGNATURE_SET_UPLOAD_BYTES = 8 * 1024 * 1024;
/** Largest effective set, as canonical JSON: what every agent downloads and holds in memory. */
export const MAX_EFFECTIVE_SIGNATURES_BYTES = 32 * 1024 * 1024;
/** Largest signed effective set (base64url grows it by a third, plus the header and claims). */
export const MAX_SIGNED_SIGNATURES_BYTES = Math.ceil((MAX_EFFECTIVE_SIGNATURES_BYTES * 4) / 3) + 64 * 1024;
/**
 * Signatures in one set, and in the effective set: the limit of the document format itself (`SignatureSetDocument`),
 * so a larger effective set would be refused by every agent.
 */
export const MAX_SIGNATURES_PER_SET = 200_000;
export const MAX_EFFECTIVE_SIGNATURES = MAX_SIGNATURES_PER_SET;
/** JOSE `typ` of a signed effective set: never confused with a bundle (`palisade-bundle+jwt`). */
export const SIGNATURES_JWS_TYPE = 'palisade-signatures+jwt';
/** The `name` of the effective set document. */
export const EFFECTIVE_SET_NAME = 'effective';

const Common = { name: Name, description: Description.optional() };

/**
 * One signature set, as uploaded. `palisade`: our JSON signatures (errors point at `/signatures/<i>/...`); `hdb`,
 * `hsb`, `ndb`: the text of a ClamAV database file in `content`. A ClamAV line we cannot enforce as written refuses the
 * whole upload with one error per line (`pointer: /content`, `line`), never a silent drop.
 */
const PalisadeSetInput = z.strictObject({
  ...Common,
  format: z.literal('palisade'),
  /** Accepted so a `palisade.dev/signatures/v1` file can be sent as is, with `format` added. */
  apiVersion: z.literal(SIGNATURE_SET_API_VERSION).optional(),
  signatures: z.array(FileSignature).max(MAX_SIGNATURES_PER_SET),
});
const ClamAvSetInput = z.strictObject({ ...Common, format: z.enum(['hdb', 'hsb', 'ndb']), content: z.string().max(MAX_SIGNATURE_SET_UPLOAD_BYTES) });
export const FileSignatureSetInput = z.discriminatedUnion('format', [PalisadeSetInput, ClamAvSetInput]).meta({ id: 'FileSignatureSetInput' });
export type FileSignatureSetSpec = z.output<typeof FileSignatureSetInput>;

const SetFacts = {
  revision: z.int().min(1).meta({ description: 'Rises with every change of this set' }),
  signatureCount: z.int().min(0),
  /** `sha256:<hex>` of the canonical JSON of this set's signatures, as imported. */
  digest: z.string(),
};

/** A set as `GET /v1/file-signature-sets/{id}` answers it: what was uploaded, with what it imported to. */
export const FileSignatureSet = z
  .discriminatedUnion('format', [PalisadeSetInput.extend({ ...Metadata.shape, ...SetFacts }), ClamAvSetInput.extend({ ...Metadata.shape, ...SetFacts })])
  .meta({ id: 'FileSignatureSet' });

/** A set as a list shows it: the content is left to `GET` of the one set. */
export const FileSignatureSetSummary = z
  .object({ ...Metadata.shape, ...Common, format: z.enum(['palisade', 'hdb', 'hsb', 'ndb']), ...SetFacts })
  .meta({ id: 'FileSignatureSetSummary' });

/** What the bundle says of the effective set: which version, with which digest, the agent must use. */
export const BundleFileSignatures = z
  .object({
    version: z.int().min(1),
    /** `sha256:<hex>` of the canonical JSON of the effective `SignatureSetDocument`. */
    digest: z.string().regex(/^sha256:[a-f0-9]{64}$/),
    signatureCount: z.int().min(1),
  })
  .meta({ id: 'BundleFileSignatures' });
export type BundleFileSignatures = z.output<typeof BundleFileSignatures>;

/** `GET /v1/file-signatures`: the effective set's version, digest and size, and the sets it merges. */
export const EffectiveFileSignatures = BundleFileSignatures.extend({
  bytes: z.int().min(0),
  updatedAt: z.string().nullable(),
}).meta({ id: 'EffectiveFileSignatures' });

/** Claims of a signed effective set (a compact JWS of type `palisade-signatures+jwt`), signed like bundles. */
export const SignatureSetClaims = z.object({
  iss: z.string(),
  /** Tenant id. */
  tid: z.uuid(),
  /** Version of the effective set. */
  ver: z.int().min(1),
  /** `sha256:<hex>` of the canonical JSON of `signatures`. */
  dig: z.string().regex(/^sha256:[a-f0-9]{64}$/),
  iat: z.int(),
  exp: z.int(),
  signatures: z.unknown(),
});
export type SignatureSetClaims = z.output<typeof SignatureSetClaims>;

/** The effective set's document and its facts. */
export interface EffectiveSignatureSet {
  document: SignatureSetDocument;
  /** Canonical JSON of `document`: the bytes that are signed and digested. */
  canonical: string;
  digest: string;
  signatureCount: number;
}

/**
 * Merges signature lists into the effective set: EICAR first (whatever the lists hold, so no upload can remove it),
 * then every other signature once, in canonical order. Pure and deterministic: the same signatures in any order and
 * any split into sets give the same bytes and digest.
 *
 * @example
 * ```ts
 * const { digest, signatureCount } = await mergeSignatureSets([setA.signatures, setB.signatures]);
 * ```
 */
export async function mergeSignatureSets(lists: ReadonlyArray<readonly FileSignature[]>): Promise<EffectiveSignatureSet> {
  const eicar = canonicalJson(EICAR_SIGNATURE);
  const byText = new Map<string, FileSignature>();
  for (const list of lists) {
    for (const s of list) {
      const text = canonicalJson(s);
      if (text !== eicar) byText.set(text, s);
    }
  }
  const keys = [...byText.keys()].sort();
  const document: SignatureSetDocument = { apiVersion: SIGNATURE_SET_API_VERSION, name: EFFECTIVE_SET_NAME, signatures: [EICAR_SIGNATURE, ...keys.map((k) => byText.get(k)!)] };
  // Built from the sorted canonical texts directly: canonicalJson of the document would serialize every signature again.
  const canonical = `{"apiVersion":${JSON.stringify(SIGNATURE_SET_API_VERSION)},"name":${JSON.stringify(EFFECTIVE_SET_NAME)},"signatures":[${[eicar, ...keys].join(',')}]}`;
  return { document, canonical, digest: await sha256Digest(canonical), signatureCount: document.signatures.length };
}
