/**
 * Reported as `agentVersion`; kept equal to agent-sdk/package.json's version (a test checks).
 *
 * @example
 * ```ts
 * console.log(`palisade-agent ${AGENT_VERSION}`);
 * ```
 */
export const AGENT_VERSION = '0.1.0';
