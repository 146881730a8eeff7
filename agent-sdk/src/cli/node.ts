import { promises as dns } from 'node:dns';
import { hostname } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { AuditEventV1 } from '../../../schema/audit-event.ts';
import type { BundleContentV1 } from '../../../schema/bundle.ts';
import { AgentAudit } from '../audit/agent-audit.ts';
import { StatusReporter } from '../bundle/reporter.ts';
import { AuditQueue } from '../engine/audit-queue.ts';
import { chattrImmutable } from '../file-threat/actions.ts';
import { procRoots, snapshotRoots } from '../file-threat/roots.ts';
import { FileThreatService } from '../file-threat/service.ts';
import { combinedSignatureSource, FileSignatureSource } from '../file-threat/signatures.ts';
import { loadAgentFiles } from '../node/agent-files.ts';
import type { ResolveFn } from '../runtime/fqdn.ts';
import { killIfSame } from '../runtime/kill.ts';
import { k8sTracingPolicies, kubeConfig, PodWatcher } from '../runtime/kube.ts';
import { NodeAgent } from '../runtime/node-agent.ts';
import { PodCache } from '../runtime/pods.ts';
import { SignatureSetClient } from '../signature-sets/client.ts';
import { FileSignatureSetStore } from '../signature-sets/store.ts';
import { uuidv7 } from '../webhook/uuid.ts';
import { agentClient } from './agent-client.ts';
import { EXIT, parse, required, UsageError } from './args.ts';
import { stopSignal } from './stop-signal.ts';

/** A name's IPv4 and IPv6 addresses with the shortest TTL of the answers. */
export const systemResolve: ResolveFn = async (name) => {
  const [v4, v6] = await Promise.all([dns.resolve4(name, { ttl: true }).catch(() => []), dns.resolve6(name, { ttl: true }).catch(() => [])]);
  const all = [...v4, ...v6];
  if (all.length === 0) throw new Error(`${name}: no addresses`);
  return { addresses: all.map((a) => a.address), ttlSeconds: Math.min(...all.map((a) => a.ttl)) };
};

/**
 * `palisade-agent node --config FILE`: the per-node agent (DaemonSet). Keeps the bundle current like `run`, follows
 * the sensors' event files, decides on every process and connection in this node's containers, spools audit events
 * (`process`, `network`) to the control plane, keeps Tetragon policies in step (kernel enforcement) and kills
 * Enforce-mode exec violations the kernel did not refuse (user space, after the fact). Until SIGTERM or SIGINT.
 */
export async function nodeCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { config: { type: 'string' } });
  const configFile = required(values, 'config');
  const files = await loadAgentFiles(configFile);
  const settings = files.config.node;
  if (!settings) throw new UsageError(`${configFile}: no "node" section (sensors, ...) for the node agent`);
  const node = settings.nodeName ?? process.env.NODE_NAME ?? hostname();
  const ftp = settings.fileThreat;
  // The tenant's signature set, named by the bundle, fetched and verified after each poll; kept in the state directory.
  const signatureSets = ftp
    ? new SignatureSetClient({ url: files.config.url, credential: files.credential, trust: () => client.trustAnchor, issuer: files.config.issuer, tenantId: files.config.tenantId, store: new FileSignatureSetStore(files.stateDir) })
    : undefined;
  const syncSignatures = async () => {
    const r = await signatureSets?.syncWith(client.active);
    if (r && r.outcome !== 'current' && r.outcome !== 'not_named') log({ event: `signature_set_${r.outcome}`, ...('set' in r ? { version: r.set.version } : {}), ...('error' in r ? { message: r.error.message } : {}) });
  };
  const client = agentClient(files, {
    onPoll: (r) => {
      if (r.outcome !== 'not_modified') log({ event: r.outcome, ...(r.outcome === 'activated' ? { revision: r.bundle.revision } : {}) });
      void syncSignatures();
    },
  });
  const queue = new AuditQueue<AuditEventV1>({ capacity: 100_000 });
  const pods = new PodCache();
  const needsKube = settings.podWatch || settings.tetragonPolicies;
  const kc = needsKube ? kubeConfig(settings.kubeconfig ? resolve(dirname(resolve(configFile)), settings.kubeconfig) : undefined) : undefined;
  const bundle = () => (client.active ? { content: client.active.content as BundleContentV1, revision: client.active.revision } : null);
  const onAudit = (events: AuditEventV1[]) => events.forEach((e) => queue.push(e));
  const at = (p: string) => resolve(dirname(resolve(configFile)), p);
  const fileThreat = ftp
    ? new FileThreatService({
        config: { ...ftp, quarantineDir: at(ftp.quarantineDir) },
        signatures: combinedSignatureSource([
          signatureSets!.scanSource(),
          ...(ftp.signatures.length > 0 ? [new FileSignatureSource(ftp.signatures.map(at), (err) => log({ event: 'file_threat_signatures_failed', message: err.message }))] : []),
        ]),
        roots: ftp.roots === 'snapshot' ? snapshotRoots(ftp.snapshotPath!) : procRoots(ftp.procDir),
        bundle, pods: () => pods.all(), onAudit, newId: uuidv7, setImmutable: chattrImmutable, log,
      })
    : undefined;
  const agent = new NodeAgent({
    node, settings, pods, log, resolve: systemResolve, kill: (pid, binary) => killIfSame(pid, binary), bundle, onAudit,
    ...(fileThreat ? { fileThreat } : {}),
    ...(kc && settings.tetragonPolicies ? { policies: k8sTracingPolicies(kc) } : {}),
  });
  const watcher = kc && settings.podWatch ? new PodWatcher(kc, node, pods, () => (void agent.requestSync(), void fileThreat?.reconcile()), log) : undefined;
  const reporter = new StatusReporter({
    url: files.config.url, credential: files.credential, onError: (err) => log({ event: 'status_report_failed', message: err.message }),
    source: () => {
      const status = client.status();
      return { ...status, counters: { ...status.counters, ...audit.pipeline.counters(), ...agent.statusCounters() }, enforcement: agent.enforcement(), ...(signatureSets ? { fileSignatures: signatureSets.status() } : {}) };
    },
  });
  await client.restore();
  await signatureSets?.restore();
  await syncSignatures();
  const audit = await AgentAudit.start(configFile, files, client, log);
  audit.attach(queue);
  const address = await agent.start(dirname(resolve(configFile)));
  log({ event: 'node_agent_started', node, pid: process.pid, port: address.port, sensors: settings.sensors.map((s) => s.kind), detectOnly: agent.detectOnly, fileThreat: fileThreat?.enforcing ?? false });
  if (fileThreat && !settings.podWatch) log({ event: 'file_threat_without_pod_watch', message: 'container ids come from the pod watch: no container is scanned, and the section is not reported enforced' });
  watcher?.start();
  client.start();
  reporter.start();
  const signal = await stopSignal();
  log({ event: 'stopping', signal });
  watcher?.stop();
  await agent.stop();
  await audit.stop();
  await client.stop();
  await reporter.stop(true);
  return EXIT.ok;
}

function log(entry: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
}
