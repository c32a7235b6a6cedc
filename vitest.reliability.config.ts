import { defineConfig } from 'vitest/config';

/** The reliability suite: crashes, reconnects, races, bad input, authorisation and limits against real hubs. */
export default defineConfig({
  test: {
    include: ['reliability/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: heavy files (crash, 10k sockets) get the machine to themselves.
    maxWorkers: 2,
    fileParallelism: true,
    globalSetup: ['server/test-support/build-hub.ts'],
    reporters: ['default'],
  },
});
