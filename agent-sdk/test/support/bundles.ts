import { createHmac, randomUUID } from 'node:crypto';
import { BundleContentV1 } from '../../../schema/bundle.ts';
import { contentDigest } from '../../../schema/canonical-json.ts';
import { FILE_THREAT_PROTECTION_DEFAULTS } from '../../../schema/file-threat-protection.ts';
import { signBundle, type SigningKey } from '../../../workers/bundles/bundle.sign.ts';
import { generateSigningKey } from '../../../workers/bundles/signing-keys.ts';
import type { JWKS } from '../../src/index.ts';

export const ISSUER = 'https://palisade.test';
export const TENANT = randomUUID();
export const CLUSTER = randomUUID();
export const OTHER_TENANT = randomUUID();
export const OTHER_CLUSTER = randomUUID();
export const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A valid format-v1 content for a tenant and cluster, parsed so schema defaults are filled in as the control plane would. */
export function makeContent(tenantId: string = TENANT, clusterId: string = CLUSTER): Promise<BundleContentV1> {
  const scope = { id: randomUUID(), name: 'prod', global: false, resources: [{ type: 'cluster', cluster: 'prod-eu' }] };
  return BundleContentV1.parseAsync({
    apiVersion: 'palisade.dev/bundle/v1',
    tenantId,
    cluster: { id: clusterId, name: 'prod-eu', labels: { env: 'prod' } },
    policies: [
      { id: randomUUID(), name: 'baseline', revision: 3, mode: 'enforce', scopes: [scope], fileThreatProtection: { enabled: true } },
      { id: randomUUID(), name: 'audit-only', revision: 1, mode: 'audit', enabled: false, scopes: [scope] },
    ],
    runtimeProfiles: [{ id: randomUUID(), name: 'web', executables: { enabled: true, mode: 'blockListed', executables: [{ path: '/bin/nc' }] } }],
    signatureValidators: [
      { id: randomUUID(), name: 'github', type: 'cosign', verification: { method: 'keyless', identities: [{ issuer: 'https://token.actions.githubusercontent.com', subjectRegExp: '^https://github.com/acme/' }] } },
    ],
    images: [
      { reference: 'docker.io/library/nginx', digest: `sha256:${'a'.repeat(64)}`, tags: ['1.27'], compliance: 'compliant' },
      { reference: 'ghcr.io/acme/web', digest: `sha256:${'b'.repeat(64)}`, tags: [], compliance: 'notScanned' },
    ],
    registries: [{ id: randomUUID(), name: 'ghcr', url: 'ghcr.io' }],
    fileThreatProtection: FILE_THREAT_PROTECTION_DEFAULTS,
  });
}

export interface SignOptions {
  revision?: number;
  tenantId?: string;
  clusterId?: string;
  issuer?: string;
  issuedAt?: number;
  ttlSeconds?: number;
  content?: unknown;
  digest?: string;
}

/** Signs a bundle exactly as the control plane does (workers/bundles/bundle.sign.ts). */
export async function sign(key: SigningKey, o: SignOptions = {}): Promise<string> {
  const tenantId = o.tenantId ?? TENANT;
  const clusterId = o.clusterId ?? CLUSTER;
  const content = (o.content ?? (await makeContent(tenantId, clusterId))) as BundleContentV1;
  return signBundle(key, {
    issuer: o.issuer ?? ISSUER,
    tenantId,
    clusterId,
    revision: o.revision ?? 1,
    digest: o.digest ?? (await contentDigest(content)),
    content,
    issuedAt: o.issuedAt ?? nowSeconds(),
    ttlSeconds: o.ttlSeconds ?? 24 * 3600,
  });
}

export async function newKey(): Promise<{ key: SigningKey; jwks: JWKS }> {
  const { key } = await generateSigningKey();
  return { key, jwks: { keys: [key.publicJwk] } };
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const parts = (jws: string) => jws.split('.') as [string, string, string];
const header = (jws: string) => JSON.parse(Buffer.from(parts(jws)[0], 'base64url').toString()) as Record<string, unknown>;

/** Ways to damage or forge a signed bundle. */
export const tamper = {
  /** One byte of the payload changed (re-encoded, so the JWS still parses). */
  payloadByte(jws: string): string {
    const [h, p, s] = parts(jws);
    const bytes = Buffer.from(p, 'base64url');
    const at = bytes.indexOf('prod-eu');
    bytes[at] = bytes[at]! ^ 0x01;
    return `${h}.${bytes.toString('base64url')}.${s}`;
  },
  signatureByte(jws: string): string {
    const [h, p, s] = parts(jws);
    const bytes = Buffer.from(s, 'base64url');
    bytes[10] = bytes[10]! ^ 0x01;
    return `${h}.${p}.${bytes.toString('base64url')}`;
  },
  stripSignature: (jws: string) => parts(jws).slice(0, 2).join('.') + '.',
  algNone(jws: string): string {
    const [, p] = parts(jws);
    return `${b64({ ...header(jws), alg: 'none' })}.${p}.`;
  },
  /** HS256 with the trusted public key as the HMAC secret: the classic algorithm confusion attack. */
  hs256WithPublicKey(jws: string, publicX: string): string {
    const [, p] = parts(jws);
    const h = b64({ ...header(jws), alg: 'HS256' });
    const mac = createHmac('sha256', Buffer.from(publicX, 'base64url')).update(`${h}.${p}`).digest('base64url');
    return `${h}.${p}.${mac}`;
  },
  truncate: (jws: string) => jws.slice(0, jws.length - 17),
};
