import { lrwVitestConfig } from '@lrw/config/vitest';

export default lrwVitestConfig({
  test: { include: ['test/**/*.test.mjs'], testTimeout: 120_000 },
});
