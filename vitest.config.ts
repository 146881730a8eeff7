import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'workers/**/*.test.ts', 'schema/**/*.test.ts', 'agent-sdk/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Generous: these machines are shared and loaded (2 cores, several files at once); timings are measured in bench/.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
