/**
 * Palisade agent SDK: the in-cluster side of policy bundles. Web APIs only (fetch, Web Crypto, streams), so it runs
 * on Node, Deno, Bun and Workers; the file store and configuration loader live in `./node.ts`.
 *
 * @example
 * ```ts
 * import { BundleClient } from '@palisade/agent-sdk';
 * import { FileBundleStore, FileTrustStore, loadAgentFiles } from '@palisade/agent-sdk/node';
 *
 * const { config, credential, trust, stateDir, trustFile } = await loadAgentFiles('/etc/palisade/config.json');
 * const client = new BundleClient({ ...config, credential, trust, store: new FileBundleStore(stateDir), trustStore: new FileTrustStore(trustFile) });
 * client.start();
 * ```
 * @packageDocumentation
 */

// Verification: the checks every bundle passes before the agent uses it.
export { verifyBundle, DEFAULT_MAX_BUNDLE_BYTES, type VerifyBundleOptions, type VerifiedBundle } from './bundle/verify.ts';
export { BundleVerificationError, type BundleVerificationCode } from './bundle/errors.ts';
export { ALLOWED_ALGORITHMS, type AllowedAlgorithm, type JWKS } from './bundle/jws.ts';

// The client: polling, activation, persistence hooks, status.
export { BundleClient, type BundleClientOptions, type PollResult } from './bundle/client.ts';
export { fetchTrustAnchor, mergeAnchor, type TrustRefresh, type TrustStore } from './bundle/trust.ts';
export { MemoryBundleStore, type BundleStore, type PersistedBundle } from './bundle/persisted.ts';
export { StatusReporter, postStatus, type StatusReporterOptions } from './bundle/reporter.ts';
export type { AgentError, AgentErrorCode, StatusCounters, StatusDocument } from './bundle/status.ts';
export { ControlPlaneError, type TransportErrorCode } from './bundle/http.ts';
export { backoffDelay, pollDelay, DEFAULT_TIMING, type PollTiming } from './bundle/backoff.ts';

// Enrollment, configuration, summaries.
export { enroll, rotateCredential, type Enrollment, type RotatedCredential } from './enroll.ts';
export { AgentConfig } from './config.ts';
export { TrustAnchor, parseTrustAnchor } from './trust-anchor.ts';
export { summarizeBundle, formatSummary, type BundleSummary } from './bundle/summary.ts';
export { AGENT_VERSION } from './version.ts';

// Admission: the pure engine that decides on workloads from the active bundle.
export * from './engine/index.ts';

// The admission webhook's request → response translation (pure; the HTTPS server is in `./node.ts`).
export { admit, bundleProblem, type ActiveBundle, type AdmitOptions, type AdmitOutcome, type AdmitReason } from './webhook/admission.ts';
export { parseAdmissionReview, reviewResponse, MalformedReviewError, ADMISSION_API_VERSION, type AdmissionRequest, type AdmissionResponse, type AdmissionReviewResponse } from './webhook/review.ts';
export { WebhookConfig } from './config.ts';

// Runtime (node agent): sensor adapters, compiled profiles, decisions on exec and connections, Tetragon policies.
export type { RuntimeEvent, ExecEvent, NetworkEvent, SensorKind } from './runtime/event.ts';
export { adaptTetragon, type Adapted, type AdaptDrop } from './runtime/tetragon.ts';
export { adaptFalco } from './runtime/falco.ts';
export { CidrSet, parseCidr, parseIp, parseIpInto, type ParsedIp } from './runtime/cidr.ts';
export { ExecutableRule, ExecutableSet } from './runtime/executables.ts';
export { NetworkRule, type FqdnIndex } from './runtime/network.ts';
export { profileBindings, type PodInfo, type ProfileBinding } from './runtime/mapping.ts';
export { RuntimeRules, type CompiledProfile } from './runtime/rules.ts';
export { ContainerPlan } from './runtime/plan.ts';
export { decideRuntimeEvent, type RuntimeDecision, type RuntimeFinding } from './runtime/decide.ts';
export { evaluateRuntimeEvent } from './runtime/evaluator.ts';
export { PodCache } from './runtime/pods.ts';
export { FqdnResolver, type ResolveFn } from './runtime/fqdn.ts';
export { RuntimeProcessor, RUNTIME_DROP_REASONS, type RuntimeCounters, type RuntimeDropReason } from './runtime/processor.ts';
export { runtimeAuditEvents, type Enforcement } from './runtime/runtime-audit.ts';
export { compileTracingPolicy, type CompiledTracingPolicy, type PolicyTarget } from './runtime/tracing-policy.ts';
export { planTracingPolicies, type PolicyPlan } from './runtime/policy-plan.ts';
export { NodeAgentConfig } from './runtime/config.ts';
