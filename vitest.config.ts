import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Backends share real servers; files run in parallel but each uses its own schema/stream names.
    pool: 'forks',
    reporters: ['default'],
  },
});
