// Shared Vitest settings for every lrw package.
// Only TypeScript sources are collected, so built files under dist/ are never run twice.
// Each run writes `.vitest-results.json` (JSON reporter) so `npm test` can print one summed
// "N passed, N failed" line across packages (see tooling/config/summarize-tests.mjs).
import { defineConfig } from 'vitest/config';

export function lrwVitestConfig(overrides = {}) {
  return defineConfig({
    ...overrides,
    test: {
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      exclude: ['dist/**', 'node_modules/**'],
      reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      pool: 'forks',
      poolOptions: { forks: { maxForks: 2, minForks: 1 } },
      ...(overrides.test ?? {}),
    },
  });
}

export default lrwVitestConfig();
