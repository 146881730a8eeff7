import { expect } from 'vitest';

/**
 * fast-check settings for these shared, loaded machines (2 cores, several test files at once). A property runs up to
 * `runs` times but stops early, without failing, once `budgetMs` is spent: well inside the test's own timeout
 * (`PROPERTY_TEST_TIMEOUT`), so no run outlives its test and touches a database `afterAll` has closed. `counted`
 * wraps the property's body so the test can then require a minimum of completed runs (`expectRuns`): a slow machine
 * shrinks the sample, it never empties it.
 */
export function loadedMachineRuns(runs: number, budgetMs = 100_000) {
  let completed = 0;
  return {
    parameters: { numRuns: runs, interruptAfterTimeLimit: budgetMs, markInterruptAsFailure: false },
    counted:
      <A extends unknown[]>(body: (...args: A) => Promise<void>) =>
      async (...args: A) => {
        await body(...args);
        completed++;
      },
    expectRuns(minimum: number) {
      expect(completed, `completed runs of the property (at most ${runs}, within ${budgetMs} ms)`).toBeGreaterThanOrEqual(Math.min(minimum, runs));
    },
  };
}

/** The timeout of a property test: the fast-check budget plus room for set-up and the checks after it. */
export const PROPERTY_TEST_TIMEOUT = 240_000;
