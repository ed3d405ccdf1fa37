import { lrwVitestConfig } from '@lrw/config/vitest';

// npm pack and npx run in child processes: give them time on a loaded 2-core machine.
export default lrwVitestConfig({ test: { include: ['src/**/*.test.mjs'], testTimeout: 60_000 } });
