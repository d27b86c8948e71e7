import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure code and real local tools (no Temporal); `temporal` gets one real
// Temporal dev server from test/global-setup.ts, shared by its suites.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          pool: 'forks',
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'temporal',
          include: ['test/temporal/**/*.test.ts'],
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          // Every lab write checks that no database changed without its operation naming it (the
          // lab re-serialises only named databases); the 500-subscriber test turns it off.
          env: { REPLUP_LAB_CHECK_DIRTY: '1' },
        },
      },
    ],
  },
});
