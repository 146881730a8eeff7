/**
 * Node-only parts of the agent SDK: the on-disk bundle store, atomic writes and the configuration files. Re-exports
 * the Web core, so an agent on Node imports from here alone.
 *
 * @example
 * ```ts
 * import { BundleClient, FileBundleStore, loadAgentFiles } from '@palisade/agent-sdk/node';
 * ```
 * @packageDocumentation
 */
export * from './index.ts';
export { FileBundleStore, STATE_FILES } from './bundle/store.ts';
export { writeFileAtomic, type AtomicWriteHooks } from './node/atomic-write.ts';
export { FileTrustStore } from './node/trust-file.ts';
export { AgentFileError } from './node/agent-file.ts';
export { loadAgentFiles, readTrustFile, writeEnrollment, type AgentFiles } from './node/agent-files.ts';

// Audit events: the durable on-disk spool, the shipper to the control plane, and both together.
export { AuditPipeline, type AuditPipelineOptions } from './audit/pipeline.ts';
export { Spool, type SpoolBatch, type SpoolOptions } from './audit/spool.ts';
export type { AppendResult } from './audit/spool-policy.ts';
export { Shipper, type ShipperCounters, type ShipperOptions } from './audit/shipper.ts';
export { parseRetryAfter, uploadBatch, type UploadOutcome } from './audit/upload.ts';
export { DROP_REASONS, type DropCounts, type DropReason as SpoolDropReason } from './audit/cursor.ts';
export { dropReportEvent } from './audit/drop-report.ts';
export { AuditSettings } from './audit/settings.ts';

// The admission webhook over HTTPS (`palisade-agent run` with a `webhook` section).
export { WebhookServer, type WebhookDeps, type ServedBundle, type WebhookCounters } from './webhook/server.ts';
export { WebhookMetrics } from './webhook/metrics.ts';

// Image signatures (issue 9): the OCI client and the signature I/O stage the webhook runs before `evaluate`.
export { OciClient, type OciClientOptions, type FetchedManifest, type Manifest, type Descriptor } from './oci/client.ts';
export { RegistryError, type RegistryErrorCode } from './oci/errors.ts';
export { parseDockerConfig, type RegistryCredential } from './oci/auth.ts';
export { SignatureVerifier, type SignatureVerifierOptions } from './signatures/verifier.ts';
export { signatureStage, type SignatureStage } from './signatures/stage.ts';
export { verifierFromConfig } from './signatures/from-config.ts';
export { publicGoodTrustedRoot } from './signatures/trust-root.ts';

// The node agent (`palisade-agent node`): sensor files, Kubernetes pod watch and Tetragon policy sync, user-space kill.
export { NodeAgent, type NodeAgentDeps } from './runtime/node-agent.ts';
export { FileTail, type FileTailOptions } from './runtime/file-tail.ts';
export { PodWatcher, k8sTracingPolicies, kubeConfig, syncTracingPolicies, type TracingPolicyApi } from './runtime/kube.ts';
export { killIfSame } from './runtime/kill.ts';
export { bpftraceExecSource, type BpftraceExecOptions } from './runtime/bpftrace-shim.ts';

// File Threat Protection on nodes (`node.fileThreat`): covered containers, watches, scans, actions, fileThreat events.
export { FileThreatService, type FileThreatDeps } from './file-threat/service.ts';
export { FileThreatConfig } from './file-threat/config.ts';
export { FileSignatureSource, type SignatureSet, type SignatureSource } from './file-threat/signatures.ts';
export { procRoots, snapshotRoots, type ContainerRoots } from './file-threat/roots.ts';
export { fileThreatCoverage, coveredContainers, type FileThreatBinding } from './file-threat/coverage.ts';
export { applyActions, chattrImmutable, type ActionOutcome, type FileAction } from './file-threat/actions.ts';

// File signatures (issue 11): the tenant's signature set, named by the bundle, verified, kept on disk, indexed for scanning.
export { SignatureSetClient, type SignatureSetClientOptions, type SignatureSyncResult, type SignatureSetListener, type SignatureSetStatus, type ScanSignatureSet, type ScanSignatureSource } from './signature-sets/client.ts';
export { verifySignatureSet, type VerifySignatureSetOptions, type VerifiedSignatureSet } from './signature-sets/verify.ts';
export { MemorySignatureSetStore, type PersistedSignatureSet, type SignatureSetStore } from './signature-sets/persisted.ts';
export { FileSignatureSetStore, SIGNATURE_FILES } from './signature-sets/store.ts';
export { downloadSignatureSet } from './signature-sets/download.ts';
export { indexOfSet, scannerSignatures } from './signature-sets/scanner-index.ts';
export { SignatureIndex } from './scanner/signature-index.ts';
