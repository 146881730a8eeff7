import { AgentAudit } from '../audit/agent-audit.ts';
import type { PollResult } from '../bundle/client.ts';
import { StatusReporter } from '../bundle/reporter.ts';
import { loadAgentFiles } from '../node/agent-files.ts';
import { agentClient } from './agent-client.ts';
import { EXIT, optional, parse, required, UsageError } from './args.ts';
import { log } from './log.ts';
import { startWebhook, withWebhookCounters } from './webhook.ts';
import { stopSignal } from './stop-signal.ts';

/**
 * `palisade-agent run --config FILE`: restores the last good bundle, polls for new ones and reports status until
 * SIGTERM or SIGINT; with a `webhook` section in the configuration, also serves the admission webhook over HTTPS.
 * Logs one JSON line per event on stdout (`log.ts`): each admission decision and each audit shipment at `info`, with
 * bundle activations, polls and failures (`warn`). In a container, start it as the main process (`node
 * bin/palisade-agent.mjs run ...`): `npx` does not forward SIGTERM to it.
 */
export async function runCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' }, wait: { type: 'string' } });
  const waitSeconds = Number(optional(values, 'wait') ?? 0);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 300) throw new UsageError('--wait takes whole seconds from 0 to 300');
  const configFile = required(values, 'config');
  const files = await loadAgentFiles(configFile);
  const { url, clusterId } = files.config;
  const credential = files.credential;
  const client = agentClient(files, { waitSeconds, onPoll: logPoll });
  let webhook: Awaited<ReturnType<typeof startWebhook>> | undefined;
  let audit: AgentAudit | undefined;
  const source = () => {
    const status = withWebhookCounters(client.status(), webhook);
    return audit ? audit.withCounters(status) : status;
  };
  const reporter = new StatusReporter({ url, credential, source, onError: (err) => log({ event: 'status_report_failed', message: err.message }) });

  const restored = await client.restore();
  log({ event: 'starting', pid: process.pid, url, clusterId });
  log(restored ? { event: 'restored', revision: restored.revision, digest: restored.digest, expired: restored.expired } : { event: 'no_stored_bundle', lastError: client.status().lastError });
  if (files.config.webhook) webhook = await startWebhook(configFile, files.config.webhook, client, log, files.config.registryAccess);
  // The durable audit spool and its shipper (resuming what a restart left); the webhook's decisions are drained into it.
  audit = await AgentAudit.start(configFile, files, client, log).catch(async (err: unknown) => {
    await webhook?.close();
    throw err;
  });
  if (webhook) audit.attach(webhook.audit);
  client.start();
  reporter.start();
  const signal = await stopSignal();
  log({ event: 'stopping', signal });
  await webhook?.close();
  if (webhook) log({ event: 'webhook_stopped', ...webhook.counters() });
  await audit.stop();
  await client.stop();
  await reporter.stop(true);
  return EXIT.ok;
}

function logPoll(result: PollResult): void {
  if (result.outcome === 'activated') log({ event: 'activated', revision: result.bundle.revision, digest: result.bundle.digest });
  else if (result.outcome === 'rejected' || result.outcome === 'failed')
    log({ event: result.outcome, code: (result.error as { code?: string }).code ?? 'internal', message: result.error.message });
  else log({ event: result.outcome });
}
