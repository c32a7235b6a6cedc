import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{protocol,server,electron,renderer,scripts,integration,deploy}/**/*.test.{ts,tsx}'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two at once on two cores: most tests wait on hubs, sockets and timers rather than compute.
    // (Vitest's default here is one fewer than the cores: one.)
    maxWorkers: 2,
    globalSetup: ['server/test-support/build-hub.ts'],
    reporters: ['default'],
  },
});
