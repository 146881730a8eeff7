import { createHash } from 'node:crypto';
import { tryParseImageReference, type ImageReference } from '../../../schema/image-reference.ts';
import { signatureFactKey, type BundleValidator, type SignatureFact, type SignatureNeed } from '../engine/index.ts';
import type { OciClient } from '../oci/client.ts';
import { RegistryError } from '../oci/errors.ts';
import { referrerBundles } from './bundles.ts';
import { legacySignatures } from './legacy.ts';
import { preparedValidator, type PreparedValidator } from './validators.ts';
import { verifyImageBundle, verifyLegacy, type CandidateOutcome } from './verify.ts';

export interface SignatureVerifierOptions {
  client: OciClient;
  /** A verified result is reused this long (10 min by default). */
  positiveTtlMs?: number;
  /** An unsigned or wrongly signed result is reused this long (1 min: a signature may be added soon after a push). */
  negativeTtlMs?: number;
  /** Registry errors are reused this long (0 by default: the next request asks again). */
  errorTtlMs?: number;
  /** A tag's digest is reused this long (30 s by default); a tag can move, digests cannot. */
  tagTtlMs?: number;
  /** Most results (and tag resolutions) kept; the oldest go first. 10,000 by default. */
  maxEntries?: number;
  /** Time a verification may take in the background (it outlives a request's deadline to fill the cache). */
  verificationTimeoutMs?: number;
  now?: () => number;
}

interface Entry<T> {
  value: T;
  until: number;
}

/** A bounded map that forgets entries past their time and drops the oldest when full. */
class TtlCache<T> {
  private readonly map = new Map<string, Entry<T>>();
  constructor(private readonly max: number) {}
  get(key: string, now: number): T | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    if (e.until <= now) {
      this.map.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: T, until: number): void {
    this.map.delete(key);
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, { value, until });
  }
  get size() {
    return this.map.size;
  }
}

const REASON: Record<string, Extract<SignatureFact, { status: 'failed' }>['reason']> = {
  unreachable: 'registryUnreachable',
  deadline: 'deadlineExceeded',
};

function registryFailure(err: unknown, digest?: string): SignatureFact {
  const e = err instanceof RegistryError ? err : new RegistryError('badResponse', (err as Error).message ?? String(err));
  return { status: 'failed', ...(digest ? { digest } : {}), reason: REASON[e.code] ?? 'registryError', detail: e.message };
}

/**
 * The signature I/O stage: resolves images to digests, finds their cosign signatures (legacy `.sig` tags and v3
 * referrer bundles), verifies them, and caches the facts by repository, digest and validator. Concurrent requests
 * for one digest share one verification; each caller waits only until its own deadline.
 *
 * @example
 * ```ts
 * const verifier = new SignatureVerifier({ client: new OciClient({ credentials }) });
 * const signatures = await verifier.facts(signatureNeeds(bundle.content, input), 1500);
 * const decision = evaluate(bundle.content, { ...input, signatures }, { now, bundleRevision });
 * ```
 */
export class SignatureVerifier {
  private readonly results: TtlCache<SignatureFact>;
  private readonly tags: TtlCache<string>;
  private readonly inflight = new Map<string, Promise<SignatureFact>>();
  private readonly resolving = new Map<string, Promise<string>>();
  /** Parsed references of images seen (parsing is most of a cached answer's cost). */
  private readonly refs = new Map<string, ImageReference | null>();
  private readonly now: () => number;
  private readonly o: Required<Omit<SignatureVerifierOptions, 'client' | 'now'>>;
  /** Verifications run (not answered from the cache), for metrics and tests. */
  verifications = 0;

  constructor(private readonly options: SignatureVerifierOptions) {
    this.now = options.now ?? Date.now;
    this.o = {
      positiveTtlMs: options.positiveTtlMs ?? 600_000,
      negativeTtlMs: options.negativeTtlMs ?? 60_000,
      errorTtlMs: options.errorTtlMs ?? 0,
      tagTtlMs: options.tagTtlMs ?? 30_000,
      maxEntries: options.maxEntries ?? 10_000,
      verificationTimeoutMs: options.verificationTimeoutMs ?? 10_000,
    };
    this.results = new TtlCache(this.o.maxEntries);
    this.tags = new TtlCache(this.o.maxEntries);
  }

  /** The fact for one image under one validator if the cache has it: no I/O, no promise. */
  cached(image: string, validator: BundleValidator): SignatureFact | undefined {
    let ref = this.refs.get(image);
    if (ref === undefined) {
      ref = tryParseImageReference(image) ?? null;
      if (this.refs.size >= this.o.maxEntries) this.refs.clear();
      this.refs.set(image, ref);
    }
    if (!ref) return undefined;
    const now = this.now();
    const digest = ref.digest ?? this.tags.get(`${ref.name}:${ref.tag}`, now);
    return digest ? this.results.get(resultKey(ref, digest, validator), now) : undefined;
  }

  /** Facts for every need, each within `deadlineMs`; a need not answered in time is `deadlineExceeded`. */
  async facts(needs: readonly SignatureNeed[], deadlineMs: number): Promise<Map<string, SignatureFact>> {
    const out = new Map<string, SignatureFact>();
    const pending: Array<Promise<void>> = [];
    for (const need of needs) {
      const key = signatureFactKey(need.image, need.validator.id);
      const hit = this.cached(need.image, need.validator);
      if (hit) out.set(key, hit);
      else
        pending.push(
          this.fact(need.image, need.validator)
            .catch((err: unknown): SignatureFact => ({ status: 'failed', reason: 'registryError', detail: `verification failed: ${(err as Error).message}` }))
            .then((f) => void out.set(key, f)),
        );
    }
    if (pending.length === 0) return out;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    await Promise.race([Promise.all(pending), deadline]);
    clearTimeout(timer);
    for (const need of needs) {
      const key = signatureFactKey(need.image, need.validator.id);
      if (!out.has(key)) out.set(key, { status: 'failed', reason: 'deadlineExceeded', detail: `no answer from ${tryParseImageReference(need.image)?.registry ?? 'the registry'} within ${deadlineMs} ms` });
    }
    return out;
  }

  /** The fact for one image and validator: cached, joined to a verification in flight, or verified now. */
  async fact(image: string, validator: BundleValidator): Promise<SignatureFact> {
    const ref = tryParseImageReference(image);
    if (!ref) return { status: 'failed', reason: 'registryError', detail: `"${image}" is not an image reference` };
    const prepared = preparedValidator(validator);
    if (prepared instanceof Error) return { status: 'failed', reason: 'invalidValidator', detail: prepared.message };
    const signal = AbortSignal.timeout(this.o.verificationTimeoutMs);
    let digest = ref.digest;
    if (!digest) {
      try {
        digest = await this.resolve(ref, signal);
      } catch (err) {
        if (err instanceof RegistryError && err.code === 'notFound') return { status: 'failed', reason: 'imageNotFound', detail: err.message };
        return registryFailure(err);
      }
    }
    const key = resultKey(ref, digest, validator);
    const hit = this.results.get(key, this.now());
    if (hit) return hit;
    let running = this.inflight.get(key);
    if (!running) {
      running = this.verify(ref, digest, prepared, signal).finally(() => this.inflight.delete(key));
      this.inflight.set(key, running);
      const d = digest;
      void running.then((f) => {
        const ttl = f.status === 'verified' ? this.o.positiveTtlMs : REGISTRY_REASONS.has(f.reason) ? this.o.errorTtlMs : this.o.negativeTtlMs;
        if (ttl > 0) this.results.set(key, f.digest ? f : { ...f, digest: d }, this.now() + ttl);
      });
    }
    return running;
  }

  /** A tag's digest (GET of the manifest, hashed here: the registry's word for the digest is not taken). */
  private resolve(ref: ImageReference, signal: AbortSignal): Promise<string> {
    const tagKey = `${ref.name}:${ref.tag}`;
    const known = this.tags.get(tagKey, this.now());
    if (known) return Promise.resolve(known);
    let running = this.resolving.get(tagKey);
    if (!running) {
      running = (async () => {
        const fetched = await this.options.client.manifest(ref.registry, ref.repository, ref.tag!, signal);
        if (!fetched) throw new RegistryError('notFound', `${ref.name}:${ref.tag} not found in the registry`);
        if (this.o.tagTtlMs > 0) this.tags.set(tagKey, fetched.digest, this.now() + this.o.tagTtlMs);
        return fetched.digest;
      })().finally(() => this.resolving.delete(tagKey));
      this.resolving.set(tagKey, running);
    }
    return running;
  }

  private async verify(ref: ImageReference, digest: string, v: PreparedValidator, signal: AbortSignal): Promise<SignatureFact> {
    this.verifications++;
    const client = this.options.client;
    // Both stores are searched; one that fails (a registry without referrers support answering 400, say) does not
    // hide a valid signature in the other, but without one the error decides rather than "unsigned".
    const [legacyFound, bundlesFound] = await Promise.allSettled([
      legacySignatures(client, ref.registry, ref.repository, digest, signal),
      referrerBundles(client, ref.registry, ref.repository, digest, signal),
    ]);
    const legacy = legacyFound.status === 'fulfilled' ? legacyFound.value : [];
    const bundles = bundlesFound.status === 'fulfilled' ? bundlesFound.value : [];
    const outcomes: CandidateOutcome[] = [...legacy.map((s) => verifyLegacy(v, s, digest)), ...bundles.map((b) => verifyImageBundle(v, b, digest))];
    const verified = outcomes.find((o) => o.result === 'verified');
    if (verified) return { status: 'verified', digest, format: outcomes.indexOf(verified) < legacy.length ? 'legacy' : 'bundle' };
    const failed = [legacyFound, bundlesFound].find((r) => r.status === 'rejected');
    if (failed) return registryFailure((failed as PromiseRejectedResult).reason, digest);
    const counted = outcomes.filter((o): o is Exclude<CandidateOutcome, { result: 'verified' }> => o.result !== 'notCounted' && o.result !== 'verified');
    const digestOnly = counted.find((o) => o.result === 'otherDigest');
    if (digestOnly) return { status: 'failed', digest, reason: 'otherDigest', detail: digestOnly.detail };
    if (counted.length > 0) return { status: 'failed', digest, reason: v.kind === 'publicKey' ? 'otherKey' : 'otherIdentity', detail: `${counted.length} signature(s), none accepted: ${counted[0]!.detail}`.slice(0, 600) };
    const ignored = outcomes.length ? ` (${outcomes.length} ignored: ${(outcomes[0] as { detail?: string }).detail})` : '';
    return { status: 'failed', digest, reason: 'unsigned', detail: `no cosign signature for ${digest}${ignored}`.slice(0, 600) };
  }
}

const REGISTRY_REASONS = new Set(['registryUnreachable', 'deadlineExceeded', 'registryError']);

const validatorKeys = new WeakMap<BundleValidator, string>();
/** Results depend on the validator's content, not only its id (a validator edited in a new bundle is re-checked). */
function resultKey(ref: ImageReference, digest: string, v: BundleValidator): string {
  let k = validatorKeys.get(v);
  if (!k) validatorKeys.set(v, (k = `${v.id}\u0000${createHash('sha256').update(JSON.stringify(v.verification)).digest('hex')}`));
  return `${ref.name}@${digest}\u0000${k}`;
}
