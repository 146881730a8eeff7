/** Reported as `agentVersion`; kept equal to agent-sdk/package.json's version (a test checks). */
export const AGENT_VERSION = '0.1.0';
