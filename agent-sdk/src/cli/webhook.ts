import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import { ADMISSION_SECTIONS } from '../engine/index.ts';
import type { BundleClient } from '../bundle/client.ts';
import type { StatusDocument } from '../bundle/status.ts';
import type { RegistryAccessConfig, WebhookConfig } from '../config.ts';
import { verifierFromConfig } from '../signatures/from-config.ts';
import { signatureStage } from '../signatures/stage.ts';
import { WebhookServer } from '../webhook/server.ts';
import { decisionEntry, type LogEntry } from './log.ts';

/**
 * Starts the admission webhook of `palisade-agent run` (when the configuration has a `webhook` section), enforcing
 * whatever bundle `client` has active. Certificate paths are relative to the configuration file.
 */
export async function startWebhook(configFile: string, settings: WebhookConfig, client: BundleClient, log: (entry: LogEntry) => void, registryAccess?: RegistryAccessConfig): Promise<WebhookServer> {
  const base = dirname(resolve(configFile));
  const resolved = {
    ...settings,
    certFile: resolve(base, settings.certFile),
    keyFile: resolve(base, settings.keyFile),
    ...(settings.clientCaFile ? { clientCaFile: resolve(base, settings.clientCaFile) } : {}),
  };
  const signatures = signatureStage(await verifierFromConfig(registryAccess, base));
  const server = await WebhookServer.create(resolved, {
    bundle: () => client.active,
    log,
    signatures,
    onDecision: (request, outcome) => log(decisionEntry(request, outcome)),
  });
  const address = await server.listen();
  log({ event: 'webhook_listening', address: address.address, port: address.port, failurePolicy: settings.failurePolicy, clientAuthentication: settings.clientCaFile ? 'certificate' : 'none' });
  return server;
}

/**
 * The status document with the webhook's decision and audit-queue counters added to `counters`, and what this
 * admission instance enforces (`enforcement`: the engine's `ADMISSION_SECTIONS`; the instance is the pod's name from
 * `POD_NAME`, set by the Deployment, else the host name).
 */
export function withWebhookCounters(status: StatusDocument, webhook: WebhookServer | undefined, instance = process.env.POD_NAME || hostname()): StatusDocument {
  if (!webhook) return status;
  const enforcement = { component: 'admission' as const, instance: instance.slice(0, 253), sections: [...ADMISSION_SECTIONS], detectOnly: [] };
  return { ...status, counters: { ...status.counters, ...webhook.counters() }, enforcement };
}
