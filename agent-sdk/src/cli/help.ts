import { DEFAULT_LIMITS } from '../scanner/types.ts';
/**
 * The help texts of `palisade-agent` (`-h`, `--help`, `help [COMMAND]`, `COMMAND --help`). Kept beside the parsers'
 * option lists: a test checks that every option a command accepts is named in its help.
 */

const EXIT_CODES = 'Exit codes: 0 ok, 1 bundle rejected (evaluate: something denied), 2 usage error or bad file, 3 control plane unreachable or in error.';

/** The configuration file every `--config` reads; the same text for each command that takes one. */
export const CONFIG_FIELDS = `Configuration file (config.json, written by enroll; relative paths are relative to the file):
  url             the control plane, e.g. https://palisade.example.com
  clusterId       this cluster's id           tenantId   the tenant's id
  issuer          the expected bundle issuer (iss claim)
  credentialFile  the agent credential (mode 0600)
  trustFile       the JWKS bundles are verified against (kept current by the agent; must be writable)
  stateDir        where the last good bundle is kept (bundle.jws, bundle.json)
  webhook         optional; run serves the admission webhook when present:
                    certFile, keyFile (PEM, reloaded on change), listen (0.0.0.0), port (8443),
                    failurePolicy (closed | open), expiryGraceSeconds (3600), requestDeadlineMs (2000),
                    maxRequestBytes (4 MiB), auditQueueCapacity (10000), certReloadSeconds (10)
  audit           optional; the audit spool and shipper of run:
                    spoolDir (<stateDir>/audit-spool), maxSpoolEvents (100000), maxSpoolBytes (64 MiB),
                    segmentBytes (4 MiB), batchEvents (500), batchBytes (1 MiB), batchMaxWaitMs (2000),
                    batchesInFlight (2), gzip (true), uploadTimeoutMs (30000), dropReportSeconds (60)`;

export const COMMAND_HELP: Record<string, string> = {
  enroll: `Usage: palisade-agent enroll --url URL --token TOKEN --out DIR

Enrolls this cluster's agent with an enrollment token (POST /v1/clusters/{id}/enrollment-tokens) and writes
DIR/config.json, DIR/credential (0600) and DIR/jwks.json (the trust anchor). HTTPS only, except to a loopback address.

Options:
  --url URL       the control plane's base URL
  --token TOKEN   a one-time enrollment token (pet_...)
  --out DIR       the directory to write (created if missing)`,

  'bundle pull': `Usage: palisade-agent bundle pull --config FILE [--json]

Polls the control plane once, verifies the signed bundle, stores it in stateDir (bundle.jws) and prints where it was
saved and a summary. A bundle that fails verification is not stored; the previous one is kept.

Options:
  --config FILE   the agent's config.json
  --json          print the summary as JSON

${CONFIG_FIELDS}`,

  'bundle verify': `Usage: palisade-agent bundle verify --trust JWKS [--issuer ISS] [--tenant ID] [--cluster ID] [--config FILE] [--allow-expired] [--json] FILE

Verifies a signed bundle file offline (signature, issuer, tenant, cluster, expiry, contents) and prints a summary.

Options:
  --trust JWKS      the trust anchor (a JWKS file); or take it from --config
  --issuer ISS      the expected issuer      --tenant ID   the expected tenant      --cluster ID   the expected cluster
                    (each taken from --config when given, else from the bundle itself, with a warning)
  --config FILE     an agent's config.json: trust file, issuer, tenant and cluster
  --allow-expired   accept a bundle past its expiry
  --json            print the summary as JSON`,

  run: `Usage: palisade-agent run --config FILE [--wait SECONDS]

Runs the agent until SIGTERM or SIGINT: restores the last good bundle, polls for new ones (long poll with --wait),
refreshes the trust anchor hourly, reports status, spools and ships audit events, and with a webhook section in the
configuration serves the admission webhook (POST /validate, /healthz, /readyz, /metrics) over HTTPS.
Logs one JSON line per event on stdout, with a level: each admission decision and each audit shipment at info.

Options:
  --config FILE     the agent's config.json
  --wait SECONDS    long-poll wait per bundle request, 0 to 300 (default 0)

${CONFIG_FIELDS}`,

  'trust refresh': `Usage: palisade-agent trust refresh --config FILE [--json]

Fetches the control plane's signing keys and replaces the trust file, keeping the key of the stored bundle.

Options:
  --config FILE   the agent's config.json
  --json          print the result as JSON

${CONFIG_FIELDS}`,

  'credential rotate': `Usage: palisade-agent credential rotate --config FILE

Swaps the agent's credential for a new one (written to credentialFile); the old one works for 10 more minutes.

Options:
  --config FILE   the agent's config.json

${CONFIG_FIELDS}`,

  evaluate: `Usage: palisade-agent evaluate --bundle FILE [--trust JWKS | --config FILE | --insecure-unsigned] [--cluster NAME] [--namespace NS] [--output table|json] INPUT...

Decides Kubernetes manifests with a bundle, offline. INPUT: YAML or JSON files (multi-document, kind: List,
AdmissionReview), - for stdin. Exit 0 when everything is allowed, 1 when anything is denied, 2 for bad input.

Options:
  --bundle FILE          a signed bundle (bundle.jws), or with --insecure-unsigned the JSON of GET /v1/clusters/{id}/bundle
  --trust JWKS           verify the signed bundle against this JWKS
  --config FILE          verify it with an agent's config.json (trust file, issuer, tenant, cluster)
  --insecure-unsigned    take unsigned bundle JSON (for trying policies before publishing)
  --cluster NAME         the cluster name policy scopes match
  --namespace NS         the namespace of inputs that name none (default "default")
  --output table|json    the result format (default table)
  --verify-signatures    verify image signatures for imageContentProtection rules (reaches the registries)
  --registry-config FILE a .dockerconfigjson with registry credentials (needs --verify-signatures)
  --plain-http HOST:PORT a registry reached over plain HTTP, repeatable (needs --verify-signatures)`,

  node: `Usage: palisade-agent node --config FILE

Runs the node agent (a DaemonSet, one per node) until SIGTERM or SIGINT: keeps the bundle current like run, maps
runtime profiles onto the containers of this node, decides on the exec, connect and accept events its sensors report
(Tetragon JSON export, Falco JSON alerts: detect only), keeps Tetragon TracingPolicyNamespaced objects in step with
the bundle (blocking in the kernel), kills Enforce-mode exec violations the kernel did not refuse (after the fact),
ships process and network audit events, and serves /metrics, /healthz and /readyz over HTTP. With fileThreat, it
also scans the files of the containers that policies or profiles with File Threat Protection cover (on change, every
fullScanSeconds, and on POST /scan from loopback), acts on detections as the tenant's settings say, and ships
fileThreat audit events.

Options:
  --config FILE     the agent's config.json, with a node section:
                      nodeName (NODE_NAME), sensors [{kind: tetragon | falco, path, fromStart}] (none: fileThreat only), listen (0.0.0.0),
                      port (9464), queueCapacity (65536), killDetectOnly (true), tetragonPolicies (true),
                      podWatch (true), kubeconfig (in-cluster when absent), dnsMinRefreshSeconds (5),
                      dnsMaxRefreshSeconds (300), syncSeconds (60)
                    fileThreat (optional; needs podWatch): scans with the tenant's signature set (named by the bundle,
                      kept in stateDir) plus local signatures [files: *.json, *.hdb, *.hsb, *.ndb],
                      signatureCheckSeconds (60), roots (proc: /proc/<pid>/root | snapshot), procDir (/proc),
                      snapshotPath (with {id}, for roots snapshot), fullScanSeconds (3600), settleMilliseconds (500),
                      queueCapacity (50000), maxWatchesPerContainer (20000), skipPaths ([/proc, /sys, /dev]),
                      quarantineDir (/var/lib/palisade/quarantine), workers (cores - 1), cacheEntries (200000),
                      notScannedWindowSeconds (300), reconcileSeconds (30)

${CONFIG_FIELDS}`,

  scan: `Usage: palisade-agent scan [--signatures FILE]... [options] PATH...

Scans files and directories for threats: the files themselves and, recursively, the archives and mail inside them
(zip, gzip, bzip2, xz, tar, 7z, RAR, .eml). EICAR is always detected.

Options:
  --signatures FILE     Palisade signature set (*.json) or ClamAV database (*.hdb, *.hsb, *.ndb); repeatable.
                        Unsupported ClamAV lines are reported on stderr as FILE:LINE: reason.
  --signatures-from DIR The tenant's signature set a node agent keeps in its state directory DIR, verified against
                        the agent configuration given with --config FILE (trust anchor, issuer, tenant).
  --output text|json    text (default): "PATH: NAME FOUND" per detection, "PATH: OK" per clean file, then a summary.
  --exclude PATH        Leave out a path, everything under it, or paths matching a * mask; repeatable.
  --archives all|selfExtractingOnly|off   Which archives to open (default all).
  --no-mail             Do not open mail messages (they are then reported as not fully scanned).
  --max-file-size MB    Largest object scanned (default ${DEFAULT_LIMITS.maxObjectBytes / 1024 / 1024}).
  --max-depth N         Containers inside containers (default ${DEFAULT_LIMITS.maxDepth}).
  --max-scan-time S     Seconds per file (default ${DEFAULT_LIMITS.maxScanMs / 1000}).
  --quiet               Print only detections and files not fully scanned.
  --jobs N              Scanning threads (default: the number of cores).

A file is never reported OK unless all of it was read: limits, encryption and errors are reported as such.
Exit codes: 0 everything clean, 1 a threat was found, 2 usage error or a file not fully scanned.`,
};

export const USAGE = `Usage: palisade-agent COMMAND [OPTIONS]

Commands:
  enroll              enroll this cluster's agent and write its configuration
  bundle pull         download, verify and store the bundle once
  bundle verify       verify a bundle file offline
  run                 keep the bundle current, serve the admission webhook, ship audit events
  node                the node agent: runtime profiles and file threats in this node's containers (DaemonSet)
  trust refresh       refresh the trust anchor (signing keys)
  credential rotate   swap the agent credential for a new one
  evaluate            decide manifests with a bundle, offline
  scan                scan files, archives and mail for threats (ClamAV-like output)

Run palisade-agent COMMAND --help for its options and configuration fields.
Other options: -h, --help (this text), --version.

${EXIT_CODES}`;

/** The help of one command, with the exit codes. */
export const commandHelp = (name: string): string | undefined => (COMMAND_HELP[name] ? `${COMMAND_HELP[name]}\n\n${EXIT_CODES}` : undefined);
