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
export { AgentFileError, loadAgentFiles, readTrustFile, writeEnrollment, type AgentFiles } from './node/agent-files.ts';
