/**
 * The admission engine: pure decisions of a policy bundle on pods and workloads, their audit events, and a bounded
 * queue for those events. No I/O, no clock, no Node-only API: the agent and the Worker share it.
 * @packageDocumentation
 */
export { evaluate } from './evaluate.ts';
export { CompiledBundle, compiledBundle } from './compiled/index.ts';
export { DEFAULT_TRUSTED_CONTROLLERS, extractWorkload, WORKLOAD_KINDS, type Workload, type WorkloadKind, type WorkloadRef } from './workload.ts';
export { auditEvents, MAX_CHECKS, type AuditEventOptions } from './audit-events.ts';
export { AuditAggregator, aggregateKey, type AuditAggregatorOptions } from './audit-aggregate.ts';
export { AuditQueue, type AuditQueueOptions, type DropReason } from './audit-queue.ts';
export { registryAllows } from './checks/registries-allowed.ts';
export { decidingRule, signatureFactKey, signatureNeeds, templateSpecificity, type BundleValidator, type SignatureNeed, type SignatureRule } from './signature-rules.ts';
export type { SignatureFact, SignatureFacts, SignatureFailure } from './types.ts';
export { blockedBy, normalizeHostPath, pathWithin, resolveHostPath } from './paths.ts';
export type { AdmissionInput, Decision, EvaluateOptions, Finding, PolicyRef, PolicyResult, RuleStatus, Severity } from './types.ts';
export { workloadShapeProblems, type ShapeProblem } from './spec-shape.ts';
export { ADMISSION_SECTIONS, notEnforcedSections } from './enforcement.ts';
