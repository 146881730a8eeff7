import { randomUUID, X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { generate } from 'selfsigned';
import { BundleContentV1 } from '../../../schema/bundle.ts';
import { fakeId } from '../../../test/engine/support/bundle.ts';

/** A self-signed EC certificate for localhost and 127.0.0.1, generated per test run. */
export async function selfSigned(cn = 'localhost'): Promise<{ cert: string; key: string; fingerprint: string }> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  return { cert: pems.cert, key: pems.private, fingerprint: new X509Certificate(pems.cert).fingerprint256 };
}

export interface CertificateAuthority {
  cert: string;
  key: string;
}

/** A CA that signs client certificates (basicConstraints CA, keyCertSign), as an operator makes for the API server. */
export async function clientCa(cn = 'palisade-webhook-client-ca'): Promise<CertificateAuthority> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A client certificate (`clientAuth`) for `cn`, signed by `ca` (a fresh, unrelated CA when none is given). */
export async function clientIdentity(cn: string, ca?: CertificateAuthority): Promise<{ cert: string; key: string }> {
  const issuer = ca ?? (await clientCa('stranger-ca'));
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    ca: issuer,
    extensions: [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', digitalSignature: true, critical: true }, { name: 'extKeyUsage', clientAuth: true }],
  } as Parameters<typeof generate>[1]);
  return { cert: pems.cert, key: pems.private };
}

/** What a test client trusts (`ca`), and the client certificate it presents, if any. */
export type ClientTls = string | { ca: string; cert?: string; key?: string };

/** Policies with every kind of outcome: an Enforce-mode baseline plus allowed registries, and Audit-mode best practices. */
export function webhookBundle(): Promise<BundleContentV1> {
  const scope = (i: number) => [{ id: fakeId(2, i), name: `scope-${i}`, global: true, resources: [] }];
  return BundleContentV1.parseAsync({
    apiVersion: 'palisade.dev/bundle/v1',
    tenantId: fakeId(9, 1),
    cluster: { id: fakeId(8, 1), name: 'prod-eu' },
    policies: [
      { id: fakeId(1, 1), name: 'baseline', revision: 4, mode: 'enforce', scopes: scope(1), limitContainerPrivileges: { enabled: true, preset: 'baseline' }, registriesAllowed: { enabled: true, registries: ['ghcr.io/acme', 'docker.io/library'] } },
      { id: fakeId(1, 2), name: 'hygiene', revision: 2, mode: 'audit', scopes: scope(2), bestPracticeCheck: { enabled: true, checks: ['imageTagNotLatest', 'memoryLimitsSet'] } },
      { id: fakeId(1, 3), name: 'profiles', revision: 1, mode: 'audit', scopes: scope(3), containerRuntimeProfiles: { enabled: true, mappings: [{ podLabels: { app: 'web' }, profileIds: [fakeId(3, 1)] }] } },
    ],
    runtimeProfiles: [{ id: fakeId(3, 1), name: 'web' }],
    signatureValidators: [],
    images: [],
    registries: [],
    fileThreatProtection: null,
  });
}

const memory = { limits: { memory: '256Mi' } };
/** A Pod as the API server passes it to admission (defaults filled in, no status yet). */
export function pod(name: string, containers: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', uid: randomUUID(), labels: { app: 'web' }, creationTimestamp: null },
    spec: { containers: containers.map((c) => ({ imagePullPolicy: 'IfNotPresent', resources: memory, terminationMessagePath: '/dev/termination-log', ...c })), restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', serviceAccountName: 'default', ...extra },
    status: {},
  };
}

export const goodPod = (name = 'web') => pod(name, [{ name: 'app', image: 'ghcr.io/acme/web:1.4.2' }]);
export const badPod = (name = 'web') =>
  pod(name, [
    { name: 'app', image: 'quay.io/evil/miner:latest', securityContext: { privileged: true } },
    { name: 'sidecar', image: 'docker.io/library/envoy', resources: {} },
  ], { hostNetwork: true });

/** An AdmissionReview exactly as kube-apiserver sends it for `operation` on `object`. */
export function review(object: unknown, o: { operation?: string; dryRun?: boolean; oldObject?: unknown; uid?: string; subResource?: string } = {}) {
  const meta = ((object as { metadata?: { name?: string; namespace?: string } } | null)?.metadata ?? {});
  const kind = (object as { kind?: string } | null)?.kind ?? 'Pod';
  const resource = { group: kind === 'Pod' ? '' : 'apps', version: 'v1', resource: `${kind.toLowerCase()}s` };
  const gvk = { group: resource.group, version: 'v1', kind };
  const operation = o.operation ?? 'CREATE';
  const options = { CREATE: 'CreateOptions', UPDATE: 'UpdateOptions', DELETE: 'DeleteOptions' }[operation] ?? 'ConnectOptions';
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? randomUUID(),
      kind: gvk, resource, requestKind: gvk, requestResource: resource,
      ...(o.subResource ? { subResource: o.subResource, requestSubResource: o.subResource } : {}),
      name: meta.name, namespace: meta.namespace ?? 'shop', operation,
      userInfo: { username: 'kubernetes-admin', groups: ['kubeadm:cluster-admins', 'system:authenticated'] },
      object: operation === 'DELETE' ? null : object,
      oldObject: o.oldObject ?? (operation === 'DELETE' ? object : null),
      dryRun: o.dryRun ?? false,
      options: { kind: options, apiVersion: 'meta.k8s.io/v1' },
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => any;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
}

/** One HTTPS request on a fresh connection, trusting `tls.ca` (and presenting its client certificate, if any). */
export function call(url: string, tls: ClientTls, init: { method?: string; body?: string | Buffer; headers?: Record<string, string>; slowBody?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const identity = typeof tls === 'string' ? { ca: tls } : tls;
    const req = request(url, { method: init.method ?? 'GET', ...identity, agent: false, headers: init.headers ?? {} }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerX509Certificate()?.fingerprint256 ?? '';
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text), fingerprint });
      });
    });
    req.on('error', reject);
    if (init.slowBody !== undefined) req.write(init.slowBody); // and never finish it
    else req.end(init.body);
  });
}

export const postReview = (url: string, ca: ClientTls, body: unknown, headers: Record<string, string> = {}) =>
  call(`${url}/validate`, ca, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
