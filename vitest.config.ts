import { defineConfig } from 'vitest/config';

// The suite must pass on a loaded 2-core machine (`npm run test:load`): slow is not broken. Timeouts are
// generous backstops for a hung test, never the way a test decides anything; tests wait for events.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    pool: 'forks',
    // Two test files at a time: security and end-to-end tests spawn real worker processes (two per
    // sandbox), so more would only oversubscribe two cores.
    maxWorkers: 2,
  },
});
