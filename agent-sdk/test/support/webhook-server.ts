import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebhookConfig } from '../../src/config.ts';
import { WebhookServer, type ServedBundle } from '../../src/webhook/server.ts';
import { clientCa, clientIdentity, selfSigned, webhookBundle } from './webhook.ts';

/**
 * A webhook server on 127.0.0.1 with a fresh certificate in a temporary directory, and a bundle tests can swap. It
 * authenticates its clients as in production (`clientCaFile`); `ca` is what the API server holds: trust in the
 * serving certificate and a client certificate (CN `kube-apiserver`) of that client CA.
 */
export async function startWebhook(settings: Partial<WebhookConfig> = {}, o: { bundle?: ServedBundle | null; now?: () => number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'palisade-webhook-'));
  const pair = await selfSigned();
  const certFile = join(dir, 'tls.crt');
  const keyFile = join(dir, 'tls.key');
  await writeFile(certFile, pair.cert);
  await writeFile(keyFile, pair.key);
  const authority = await clientCa();
  const clientCaFile = join(dir, 'client-ca.crt');
  await writeFile(clientCaFile, authority.cert);
  const apiServer = await clientIdentity('kube-apiserver', authority);
  const state = { bundle: o.bundle === undefined ? await servedBundle() : o.bundle };
  const logs: Array<Record<string, unknown>> = [];
  const config = WebhookConfig.parse({ listen: '127.0.0.1', port: 0, certFile, keyFile, clientCaFile, ...settings });
  const server = await WebhookServer.create(config, { bundle: () => state.bundle, log: (e) => logs.push(e), ...(o.now ? { now: o.now } : {}) });
  const { port } = await server.listen();
  const ca = { ca: pair.cert, ...apiServer };
  return { server, url: `https://127.0.0.1:${port}`, ca, serverCa: pair.cert, clientCa: authority, clientCaFile, pair, dir, certFile, keyFile, state, logs };
}

/** The test bundle as the client hands it over: revision 7, issued a minute ago, valid for a day. */
export async function servedBundle(over: Partial<ServedBundle> = {}): Promise<ServedBundle> {
  const now = Date.now();
  return { content: await webhookBundle(), revision: 7, issuedAt: new Date(now - 60_000), expiresAt: new Date(now + 86_400_000), ...over };
}
