import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Component tests under test/web import .vue files (they pick happy-dom per file).
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts', 'server/**/*.test.ts', 'workers/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Two cores: two test files at a time; each gets its own database.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
